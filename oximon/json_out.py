"""`json.dumps(obj, ensure_ascii=False)`, byte for byte, for the plain data of oximon's
outputs (dicts with text keys, lists, tuples, text, ints, floats, None, booleans), without
importing `json`: its decoder and scanner compile regular expressions at import, ~1-2 ms
of every `oximon analyze`, which only ever writes JSON. Strings are escaped by the C
function `json` itself uses; anything else (another type, a non-text key) is handed to
`json.dumps`, so the text is always exactly what `json` would write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from _json import encode_basestring as _text  # CPython's C escaper (json's own)
except ImportError:  # pragma: no cover  (another Python: json's pure escaper)
    from json.encoder import py_encode_basestring as _text


class _Other(Exception):
    """A value this writer leaves to `json`."""


def dumps(obj: Any) -> str:
    """The JSON text of `obj`, exactly as `json.dumps(obj, ensure_ascii=False)`."""
    parts: list[str] = []
    try:
        _put(obj, parts.append)
    except _Other:
        import json

        return json.dumps(obj, ensure_ascii=False)
    return "".join(parts)


def _float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


def _put(o: Any, put: Callable[[str], object]) -> None:
    if isinstance(o, str):
        put(_text(o))
    elif o is None:
        put("null")
    elif o is True:
        put("true")
    elif o is False:
        put("false")
    elif isinstance(o, int):
        put(int.__repr__(o))
    elif isinstance(o, float):
        put(_float(o))
    elif isinstance(o, dict):
        put("{")
        first = True
        for k, v in o.items():
            if not isinstance(k, str):
                raise _Other
            put(_text(k) + ": " if first else ", " + _text(k) + ": ")
            first = False
            _put(v, put)
        put("}")
    elif isinstance(o, list | tuple):
        put("[")
        for i, v in enumerate(o):
            if i:
                put(", ")
            _put(v, put)
        put("]")
    else:
        raise _Other
