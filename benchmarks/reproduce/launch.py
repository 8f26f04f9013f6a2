"""``python benchmarks/reproduce/launch.py tools/<tool>.py ARGS`` = ``python tools/<tool>.py ARGS``
with mmengine's yapf pass over config text turned off.

mmengine formats the whole config with yapf each time it logs or dumps it (``Config.pretty_text``:
the run's log, ``config.py`` in the work dir, the visualizer's copy, each checkpoint's meta),
about 4 CPU-s per pass on the toy configs, more than a toy run's training. Without yapf the text is
mmengine's own unformatted (valid Python) rendering of the same config; nothing else changes.
"""
import os.path as osp
import runpy
import sys


def main():
    if len(sys.argv) < 2 or not sys.argv[1].endswith('.py'):
        sys.exit('usage: launch.py <script>.py [args ...]')
    import mmengine.config.config as mcc
    mcc.FormatCode = lambda text, style_config=None, **kw: (text, False)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, osp.dirname(osp.abspath(script)))
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
