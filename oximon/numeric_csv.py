"""Numbers of a comma-separated body, parsed by numpy over its bytes: no per-cell Python.

Why: a 24 h, 1 Hz recording is ~260,000 cells; `float()` on each costs ~40-60 ms, more
than starting Python. Here every step is a pass over the bytes (find the separators, the
digits, the dots; sum each cell's digits times their powers of ten), ~10 ms.

Exact: only cells of the plain form `[-]digits[.digits]` with at most 15 digits are
accepted. Their digits make an integer M < 2**53 and the value is ±M / 10**k with
10**k <= 10**15: both exact in float64, so the one division is correctly rounded and
gives the same float as `float(text)` (Clinger's fast path, as strtod takes it). Anything
else (spaces, exponents, words, longer numbers, a line with the wrong number of cells)
makes `parse` return None and the caller reads the file the slow, exact way.
"""

from __future__ import annotations

import numpy as np

_POW10 = 10.0 ** np.arange(16)
COMMA, NEWLINE, DOT, MINUS = 44, 10, 46, 45


class Cells:
    """A body of `rows` lines of `k` cells: their values (`values`, rows x k, NaN where a
    cell is empty), and the cells that are not plain numbers (`odd`, flat indices)."""

    def __init__(self, values: np.ndarray, odd: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray):
        self.values, self.odd, self.starts, self.ends = values, odd, starts, ends


def parse(body: bytes, k: int, words: int = -1) -> Cells | None:
    """The cells of `body` (lines ending in \\n, the last one may not), or None if a line
    is empty or has other than k cells, or the body is not ASCII. Column `words` (if any)
    is not parsed: its values are NaN, its cells never odd."""
    if not body:
        return None
    if not body.endswith(b"\n"):
        body += b"\n"
    a = np.frombuffer(body, dtype=np.uint8)
    if a.max() >= 128:
        return None
    nl = a == NEWLINE
    is_sep = a == COMMA
    np.logical_or(is_sep, nl, out=is_sep)
    ends = np.flatnonzero(is_sep)  # one separator after every cell
    rows = int(np.count_nonzero(nl))
    if ends.size != rows * k or not bool(nl[ends[k - 1::k]].all()):
        return None  # some line has a different number of cells (or is empty)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    values = np.full((rows, k), np.nan)
    marks = (bool((a == DOT).any()), bool((a == MINUS).any()))
    odd = [_column(a, starts[j::k], ends[j::k], values[:, j], *marks) * k + j
           for j in range(k) if j != words]
    return Cells(values, np.sort(np.concatenate(odd)), starts, ends)


def _column(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray,
            dots: bool, minus: bool) -> np.ndarray:
    """One column's cells into `out` (NaN where empty or odd); returns the odd rows.
    Horner from each cell's last byte backwards, one pass per byte position (the dot and
    minus checks only when the body has any)."""
    length = ends - starts
    most = int(length.max()) if length.size else 0
    if most > 17:  # (15 digits, a dot and a sign at most: longer cells are odd)
        most = 17
    mant = np.zeros(ends.size)
    power = np.zeros(ends.size, dtype=np.intp)  # digits seen so far (from the end)
    frac = np.full(ends.size, -1, dtype=np.intp)  # digits after the dot (-1: no dot)
    bad = length > 17
    sign = np.zeros(ends.size, dtype=bool)
    for j in range(1, most + 1):
        here = length >= j
        b = a[np.maximum(ends - j, 0)]
        digit = b - np.uint8(48)  # (wraps for the other bytes: >= 10)
        is_digit = (digit < 10) & here
        mant += np.where(is_digit, digit * _POW10[np.minimum(power, 15)], 0.0)
        power += is_digit
        ok = is_digit
        if dots:
            is_dot = (b == DOT) & here
            bad |= is_dot & (frac >= 0)  # a second dot
            frac = np.where(is_dot, power, frac)
            ok = ok | is_dot
        if minus:
            is_minus = (b == MINUS) & here
            bad |= is_minus & (length != j)  # a '-' not at the start
            sign |= is_minus
            ok = ok | is_minus
        bad |= here & ~ok
    bad |= power > 15
    bad |= (length > 0) & (power == 0)  # "-", ".", "-."
    np.divide(mant, _POW10[np.clip(frac, 0, 15)], out=out)
    out[sign] *= -1.0
    out[length == 0] = np.nan
    odd = np.flatnonzero(bad)
    out[odd] = np.nan
    return odd
