# Copyright (c) mmdistill contributors.
"""What every annotation schema shares: the error type, the value predicates, and the two
validators that turn a library's failure report into a message naming the file, the row (or
key), the field, the value and the rule.

Tables (CSV / pickled DataFrames / list files) are validated with ``pandera``
(:func:`validate_table`); JSON records with ``pydantic`` (:func:`validate_records`). Both
collect *every* failure of a file in one pass (pandera ``lazy=True``, pydantic's error list) and
the message lists the first :data:`MAX_LISTED` of them plus the count of the rest.
"""
import ast
import functools
import math
import numbers
import re
from typing import Callable, Dict, List, Optional, Sequence

MAX_LISTED = 5

_INT_TEXT = re.compile(r'\s*[+-]?\d+\s*')
#: ``HH:MM:SS[.ff]``, ``MM:SS[.ff]`` or seconds ``S[.ff]``: non-negative by construction.
TIMESTAMP = re.compile(r'^(\d+:[0-5]\d:[0-5]\d|[0-5]?\d:[0-5]\d|\d+)(\.\d+)?$')


class AnnotationError(ValueError):
    """An annotation file breaks its schema.

    ``str(err)`` names the file and, per failure, the row or key, the field, the value and the
    rule; ``err.failures`` holds them as dicts (``file``, ``where``, ``field``, ``value``,
    ``rule``) for programs.
    """

    def __init__(self, message: str, failures: Sequence[dict] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


# ------------------------------------------------------------------ value predicates
def is_missing(v) -> bool:
    """None or a float NaN (a pandas hole)."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def is_integer(v) -> bool:
    """An integer: ``3``, ``np.int64(3)``, ``3.0``, ``'3'``, ``' 3 '`` (not ``'3.5'``, ``'6l'``,
    ``''``, NaN, inf, True)."""
    t = type(v)
    if t is str:
        return _INT_TEXT.fullmatch(v) is not None
    if t is int:
        return True
    if t is bool:
        return False
    if isinstance(v, numbers.Integral):
        return True
    if isinstance(v, numbers.Real):
        return math.isfinite(v) and float(v).is_integer()
    return False


def as_int(v) -> int:
    """``int`` of a value :func:`is_integer` accepts; ``ValueError`` otherwise."""
    if not is_integer(v):
        raise ValueError(f'{v!r} is not an integer')
    return int(str(v).strip()) if isinstance(v, str) else int(v)


def is_real(v) -> bool:
    """A finite real number or its text (``'2.5'``, ``'1e3'``; not ``'nan'``, ``'inf'``)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, numbers.Real):
        return math.isfinite(v)
    if isinstance(v, str):
        try:
            return math.isfinite(float(v))
        except ValueError:
            return False
    return False


def is_timestamp(v) -> bool:
    """A non-negative timestamp: ``'HH:MM:SS.ff'`` (``'MM:SS.ff'``, seconds as text) or a finite
    number >= 0. ``'-00:00:01.00'`` is *not* one (it used to read as +1 s)."""
    if isinstance(v, str):
        return TIMESTAMP.fullmatch(v.strip()) is not None
    return is_real(v) and float(v) >= 0


def timestamp_seconds(v) -> float:
    """Seconds of a value :func:`is_timestamp` accepts; ``ValueError`` otherwise."""
    if isinstance(v, str):
        return _timestamp_text(v)
    if not is_timestamp(v):
        raise ValueError(f'{v!r} is not a non-negative timestamp HH:MM:SS.ff')
    return float(v)


@functools.lru_cache(maxsize=1 << 16)
def _timestamp_text(v: str) -> float:
    if not TIMESTAMP.fullmatch(v.strip()):
        raise ValueError(f'{v!r} is not a non-negative timestamp HH:MM:SS.ff')
    secs = 0.0
    for part in v.strip().split(':'):
        secs = secs * 60.0 + float(part)
    return secs


_INT_LIST = re.compile(r'^\[\s*(\d+\s*(,\s*\d+\s*)*,?)?\]$')
_STR_LIST = re.compile(r"^\[\s*('[^'\\]*'\s*(,\s*'[^'\\]*'\s*)*,?)?\]$")


@functools.lru_cache(maxsize=1 << 16)
def _list_text(text: str) -> Optional[tuple]:
    """Parsed list literal (cached: annotation columns repeat their values)."""
    text = text.strip()
    if _INT_LIST.match(text):  # fast paths of the common forms "[8, 3]" / "['door']"
        return tuple(int(x) for x in re.findall(r'\d+', text))
    if _STR_LIST.match(text):
        return tuple(re.findall(r"'([^'\\]*)'", text))
    try:
        out = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    return tuple(out) if isinstance(out, (list, tuple)) else None


def literal_list(v) -> Optional[list]:
    """A list from a list or its Python literal text (``"[8, 3]"``, ``"['door']"``); None when
    it is neither."""
    if isinstance(v, (list, tuple)):
        return list(v)
    if hasattr(v, 'tolist') and not isinstance(v, str):  # numpy array in a pickle
        out = v.tolist()
        return list(out) if isinstance(out, list) else None
    if isinstance(v, str):
        out = _list_text(v)
        return None if out is None else list(out)
    return None


def is_int_list(v) -> bool:
    items = literal_list(v)
    return items is not None and all(is_integer(x) for x in items)


def is_str_list(v) -> bool:
    items = literal_list(v)
    return items is not None and all(isinstance(x, str) for x in items)


_NAME_TEXT = re.compile(r'[^\s/]+')


def is_name(v) -> bool:
    """A non-empty id usable in a path: text without whitespace or ``/``, or an integer."""
    if type(v) is str:
        return _NAME_TEXT.fullmatch(v) is not None
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def show(v) -> str:
    """A value as messages print it: numbers and number-like text bare (``97``), other text
    quoted (``'6l'``)."""
    if isinstance(v, str) and v.strip() == v and (is_integer(v) or is_real(v)
                                                  or TIMESTAMP.fullmatch(v)):
        return v
    if isinstance(v, float) and math.isnan(v):
        return 'NaN'
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + '...'


# ------------------------------------------------------------------ tables (pandera)
_BUILTIN_RULES = {'not_nullable': 'is missing (empty / NaN)',
                  'field_uniqueness': 'is not unique'}


def _rule_text(check: str) -> str:
    return _BUILTIN_RULES.get(check, check)


def validate_table(df, schema, path: str, *, where: Callable[[object], str],
                   warn_schema=None, log_key: Optional[str] = None) -> None:
    """Validate a DataFrame against a pandera schema, collecting every failure.

    Args:
        df: the table (object columns as read).
        schema: ``pandera.DataFrameSchema`` whose checks are the rules; a check's ``error``
            text is the rule printed after the field and value. A table-wide check's error may
            name columns in braces (``'stop_frame {stop_frame} < start_frame
            {start_frame}'``): they are filled with the failing row's values.
        path: the file, first in every message.
        where: ``index -> 'line 3 (narration_id 'P01_01_1')'``.
        warn_schema: rules whose failures are logged (one warning per file: the count and
            the first failures) instead of raised: damage the readers tolerate.

    Raises:
        AnnotationError: missing required columns, or the first :data:`MAX_LISTED` failures
            (file, row, field, value, rule) and the number of others.
    """
    missing = [name for name, col in schema.columns.items()
               if col.required and name not in df.columns]
    if missing:
        raise AnnotationError(f'{path}: missing columns {missing}',
                              [dict(file=path, where='header', field=c, value=None,
                                    rule='required column') for c in missing])
    failures = _table_failures(df, schema, path, where)
    if failures:
        raise AnnotationError(_message(path, failures), failures)
    if warn_schema is not None:
        failures = _table_failures(df, warn_schema, path, where)
        if failures:
            from ..transforms._utils import warn_once
            warn_once(log_key or f'schema-warn:{path}', _message(path, failures) +
                      ' (kept: see docs/reliability.md "Annotation schemas")')


def _table_failures(df, schema, path, where) -> List[dict]:
    import pandera.pandas as pa
    try:
        schema.validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    wide = {c.error or c.name for c in schema.checks}
    failures, seen = [], set()
    for case in cases.itertuples(index=False):
        check, column, index = str(case.check), case.column, case.index
        if check in wide:  # one failure per row of a table-wide rule
            key = (check, index)
            if key in seen:
                continue
            seen.add(key)
            row = df.loc[index]
            fields = re.findall(r'\{(\w+)\}', check)
            rule = check.format(**{f: show(row[f]) for f in fields if f in row})
            failures.append(dict(file=path, where=where(index), field=','.join(fields),
                                 value={f: row[f] for f in fields if f in row}, rule=rule,
                                 index=index, rule_id=check))
            continue
        key = (column, index)
        if key in seen:  # e.g. not_nullable and a value check on the same NaN
            continue
        seen.add(key)
        value = df.at[index, column] if index is not None and column in df else case.failure_case
        rule = _rule_text(check)
        if check == 'field_uniqueness':
            others = [where(i) for i in df.index[df[column] == value] if i != index][:1]
            rule += f' (also {others[0]})' if others else ''
        failures.append(dict(file=path, where=where(index), field=column, value=value,
                             rule=rule, index=index))
    order = {c.error or c.name: k for k, c in enumerate(schema.checks)}
    failures.sort(key=lambda f: (_order(df, f['index']),
                                 order.get(f['rule_id'], -1) if isinstance(f['value'], dict)
                                 else -1))
    return failures


def _order(df, index):
    try:
        return df.index.get_loc(index)
    except (KeyError, TypeError):
        return -1


def _message(path: str, failures: List[dict]) -> str:
    lines = []
    for f in failures[:MAX_LISTED]:
        if isinstance(f['value'], dict):  # a table-wide rule: its text shows the values
            lines.append(f'{path}: {f["where"]}: {f["rule"]}')
        else:
            lines.append(f'{path}: {f["where"]}: {f["field"]} {show(f["value"])} {f["rule"]}')
    more = len(failures) - MAX_LISTED
    if more > 0:
        lines.append(f'... and {more} more failure(s) in {path}')
    return '\n'.join(lines)


# ------------------------------------------------------------------ records (pydantic)
def validate_records(adapter, data, path: str, *, where: Callable[[tuple], str]):
    """``adapter.validate_python(data)`` (a pydantic ``TypeAdapter`` or model class) with its
    ``ValidationError`` turned into an :class:`AnnotationError` naming the file, the record
    (``where(loc)``), the field path, the value and pydantic's rule text."""
    from pydantic import ValidationError
    try:
        validate = getattr(adapter, 'validate_python', None) or adapter.model_validate
        return validate(data)
    except ValidationError as err:
        failures = []
        for e in err.errors(include_url=False):
            loc = tuple(e.get('loc', ()))
            record, field = where(loc)
            msg = e.get('msg', '')
            msg = msg[len('Value error, '):] if msg.startswith('Value error, ') else msg
            failures.append(dict(file=path, where=record, field=field,
                                 value=e.get('input'), rule=msg, root=not loc))
        lines = []
        for f in failures[:MAX_LISTED]:
            parts = [path] + [x for x in (f['where'], f['field']) if x]
            got = '' if f['root'] else f' (got {show(f["value"])})'
            lines.append(': '.join(parts) + f': {f["rule"]}{got}')
        more = len(failures) - MAX_LISTED
        if more > 0:
            lines.append(f'... and {more} more failure(s) in {path}')
        raise AnnotationError('\n'.join(lines), failures) from None


def loc_text(loc: Sequence) -> str:
    """``('labels', 0, 'box2d', 'y2') -> 'labels[0].box2d.y2'``."""
    out = ''
    for part in loc:
        out += f'[{part}]' if isinstance(part, int) else (f'.{part}' if out else str(part))
    return out


#: schema objects by name, for docs/reliability.md (filled by the schema modules)
REGISTRY: Dict[str, dict] = {}


def register(name: str, obj, reader: str, files: str, warn=None) -> None:
    """Record a schema for the generated documentation."""
    REGISTRY[name] = dict(schema=obj, reader=reader, files=files, warn=warn)
