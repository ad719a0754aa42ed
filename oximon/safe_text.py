"""Text typed at a site, made safe for where it goes next.

An alias or a note is typed by people and read later by a supervisor's spreadsheet and
terminal. Three places it could do harm, one function each:
- `control_chars`: what entry refuses (CR, LF, ESC and every other control character):
  nothing typed in a one-line field needs them.
- `csv_cell`: a CSV cell never starts a new row nor a formula: every control character
  becomes a space, and a cell that would start with = + - @ (after leading blanks) is
  prefixed with an apostrophe. Writers also quote every text cell.
- `terminal_text`: text printed to a terminal never carries escape codes.
"""

from __future__ import annotations

import re
from typing import Any

# C0 (except none), DEL, C1, and the Unicode line/paragraph separators a spreadsheet or
# terminal may treat as a line break.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_FORMULA_START = ("=", "+", "-", "@")


def control_chars(text: str) -> list[str]:
    """The control characters in `text`, as escapes (for a message): [] when clean."""
    return [repr(c)[1:-1] for c in dict.fromkeys(_CONTROL.findall(text))]


def check_line(text: str, what: str) -> str:
    """`text` unchanged, or ValueError naming `what` and the characters refused."""
    bad = control_chars(text)
    if bad:
        raise ValueError(f"{what}: control characters are not allowed ({', '.join(bad)}); "
                         "type it on one line without them")
    return text


def neutral(text: str) -> str:
    """Every control character becomes a space."""
    return _CONTROL.sub(" ", text)


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text (numbers are left as numbers)."""
    if not isinstance(value, str):
        return value
    text = neutral(value)
    if text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def terminal_text(text: str) -> str:
    """`text` with control characters (escape codes, CR) shown as spaces, newlines kept."""
    return "\n".join(neutral(line) for line in text.split("\n"))
