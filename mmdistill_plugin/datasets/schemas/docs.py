# Copyright (c) mmdistill contributors.
"""Markdown of every registered annotation schema, generated from the schema objects.

    python -m mmdistill_plugin.datasets.schemas.docs docs/reliability.md   # rewrite the section
    python -m mmdistill_plugin.datasets.schemas.docs                        # print it

The section lies between ``<!-- BEGIN generated: schemas -->`` and
``<!-- END generated: schemas -->``; tests/test_schemas.py fails when it is out of date.
"""
import inspect
import re
import sys
import typing

from .base import REGISTRY

BEGIN = '<!-- BEGIN generated: schemas -->'
END = '<!-- END generated: schemas -->'


def _cell(text) -> str:
    return str(text).replace('|', '\\|').replace('\n', ' ')


def _table_rules(schema) -> list:
    out = []
    for name, col in schema.columns.items():
        rules = [c.error or c.name for c in col.checks]
        if col.unique:
            rules.append('is not unique')
        if not col.nullable:
            rules.append('is missing (empty / NaN)')
        out.append(f'| `{name}` | {"yes" if col.required else "no"} | '
                   f'{_cell("; ".join(rules)) or "—"} | {_cell(col.description or "")} |')
    return out


def render_table(name: str, entry: dict) -> str:
    schema = entry['schema']
    lines = [f'#### {name} (pandera)', '',
             f'Files: {entry["files"]}; reader: {entry["reader"]}.', '',
             '| Column | Required | Refused when the value ... | Meaning |', '|---|---|---|---|']
    lines += _table_rules(schema)
    if schema.checks:
        lines += ['', 'Row rules (refused when):', '']
        lines += [f'- {c.error or c.name}' for c in schema.checks]
    warn = entry.get('warn')
    if warn is not None:
        lines += ['', 'Logged, kept (one warning per file):', '']
        lines += [f'- {c.error or c.name}' for c in warn.checks]
        lines += [f'- `{n}` is not unique' for n, c in warn.columns.items() if c.unique]
    return '\n'.join(lines)


def _type_name(tp) -> str:
    text = getattr(tp, '__name__', None) if typing.get_origin(tp) is None else None
    return text or re.sub(r'\b(?:\w+\.)+(\w+)', r'\1', str(tp))


def _models(model, seen=None) -> list:
    """``model`` and the pydantic models nested in its fields, depth first."""
    from pydantic import BaseModel
    seen = [] if seen is None else seen
    if model in seen:
        return seen
    seen.append(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            tp = stack.pop()
            if inspect.isclass(tp) and issubclass(tp, BaseModel):
                _models(tp, seen)
            stack += list(typing.get_args(tp))
    return seen


def render_model(name: str, entry: dict) -> str:
    lines = [f'#### {name} (pydantic)', '',
             f'Files: {entry["files"]}; reader: {entry["reader"]}.', '']
    for model in _models(entry['schema']):
        doc = (inspect.getdoc(model) or '').split('\n\n')[0].replace('\n', ' ')
        lines += [f'`{model.__name__}`: {doc}', '']
        fields = {k: v for k, v in model.model_fields.items()}
        if fields and set(fields) != {'root'}:
            lines += ['| Field | Type | Required | Meaning / pattern |', '|---|---|---|---|']
            for k, f in fields.items():
                pattern = next((getattr(m, 'pattern', None) for m in f.metadata
                                if getattr(m, 'pattern', None)), None)
                meaning = f.description or ''
                if pattern:
                    meaning += f' (pattern `{pattern}`)'
                lines.append(f'| `{k}` | `{_cell(_type_name(f.annotation))}` | '
                             f'{"yes" if f.is_required() else "no"} | {_cell(meaning)} |')
            lines.append('')
        elif 'root' in fields:
            lines += [f'Root: `{_cell(_type_name(fields["root"].annotation))}`', '']
        decorators = model.__pydantic_decorators__
        rules = [inspect.getdoc(d.func) for d in list(decorators.field_validators.values())
                 + list(decorators.model_validators.values()) if inspect.getdoc(d.func)]
        if rules:
            lines += [f'- {r}' for r in rules] + ['']
    return '\n'.join(lines).rstrip()


def render() -> str:
    """The generated section (without the marker lines); importing the package registered
    every schema."""
    parts = []
    for name, entry in REGISTRY.items():
        schema = entry['schema']
        parts.append(render_table(name, entry) if hasattr(schema, 'columns')
                     else render_model(name, entry))
    return '\n\n'.join(parts)


def replace_section(text: str, body: str) -> str:
    """``text`` with the lines between the markers replaced by ``body``."""
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:a] + '\n' + body + '\n' + text[b:]


def section(text: str) -> str:
    """The current body between the markers of ``text``."""
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[a:b].strip('\n')


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    body = render()
    if not argv:
        print(body)
        return
    with open(argv[0]) as f:
        text = f.read()
    with open(argv[0], 'w') as f:
        f.write(replace_section(text, body))


if __name__ == '__main__':
    main()
