"""The test harness itself: in-process tool runs leave no global state behind and capture what
the tool prints; shared session folders catch a test that writes into them; the memoized config
formatting gives yapf's text."""
import os

import pytest
import torch
from conftest import _built_once
from e2e_utils import call_tool, isolated_run
from mmengine.logging import MessageHub, MMLogger, print_log


def test_isolated_run_restores_global_state(tmp_path):
    cwd, env = os.getcwd(), dict(os.environ)
    loggers, hubs = dict(MMLogger._instance_dict), dict(MessageHub._instance_dict)
    deterministic = torch.are_deterministic_algorithms_enabled()
    rng, threads = torch.get_rng_state(), torch.get_num_threads()
    with isolated_run(tmp_path):
        assert os.getcwd() == str(tmp_path)
        os.environ['LOCAL_RANK'] = '7'
        torch.use_deterministic_algorithms(not deterministic)
        torch.manual_seed(123)
        torch.set_num_threads(threads + 1)
        logger = MMLogger.get_instance('isolated_demo', log_file=str(tmp_path / 'demo.log'))
        MessageHub.get_instance('isolated_demo')
        logger.info('into the file')
    assert os.getcwd() == cwd and dict(os.environ) == env
    assert MMLogger._instance_dict == loggers and MessageHub._instance_dict == hubs
    assert not logger.handlers  # the log file is closed
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert torch.equal(torch.get_rng_state(), rng) and torch.get_num_threads() == threads
    assert 'into the file' in (tmp_path / 'demo.log').read_text()


def test_call_tool_captures_what_is_logged_before_any_runner(tmp_path):
    """A fresh process's "current" logger prints to its stdout; in-process, an earlier test's
    logger must not swallow it."""
    MMLogger.get_instance('an_earlier_test')  # now the current instance outside the run

    def tool(argv):
        print_log(f'logged {argv}', logger='current')
        print('printed')
        return 3

    out = call_tool(tool, ['a', 1], cwd=tmp_path)
    assert out.result == 3 and "logged ['a', '1']" in out.stdout and 'printed' in out.stdout
    assert out.returncode == 3  # what sys.exit(main()) would exit with
    assert MMLogger.get_current_instance().instance_name == 'an_earlier_test'


class _Request:
    def __init__(self):
        self.finalizers = []

    def addfinalizer(self, fn):
        self.finalizers.append(fn)


def test_a_test_writing_into_a_shared_folder_fails_the_session(tmp_path_factory):
    request = _Request()
    built = []
    folder = _built_once(tmp_path_factory, request, 'guard_demo',
                         lambda d: built.append((d / 'a.txt').write_text('x')))
    again = _built_once(tmp_path_factory, _Request(), 'guard_demo', lambda d: built.append(1))
    assert again == folder and len(built) == 1  # built once
    request.finalizers[0]()  # unchanged: passes
    (folder / 'b.txt').write_text('y')
    with pytest.raises(AssertionError, match=r"changed the shared read-only guard_demo .*b\.txt"):
        request.finalizers[0]()
    (folder / 'b.txt').unlink()
    (folder / 'a.txt').write_text('changed')
    with pytest.raises(AssertionError, match=r'a\.txt'):
        request.finalizers[0]()


def test_memoized_config_formatting_is_yapfs():
    import mmengine.config.config as mm_config
    from mmengine.config import Config
    from yapf.yapflib.yapf_api import FormatCode
    assert mm_config.FormatCode is not FormatCode and mm_config.FormatCode.memoized
    content = dict(model=dict(type='Recognizer3D', backbone=dict(type='ResNet3d', depth=50),
                              cls_head=dict(type='I3DHead', num_classes=400)),
                   train_pipeline=[dict(type='SampleFrames', clip_len=32)] * 3)
    text = Config(content).pretty_text
    raw = Config(content, format_python_code=False).pretty_text
    style = dict(based_on_style='pep8', blank_line_before_nested_class_or_def=True,
                 split_before_expression_after_opening_paren=True)  # mmengine's
    assert text != raw and text == FormatCode(raw, style_config=style)[0]
    assert Config(content).pretty_text == text  # again, from the cache
