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


def parse(body: bytes, k: int) -> Cells | None:
    """The cells of `body` (lines ending in \\n, the last one may not), or None if a line
    is empty or has other than k cells, or the body is not ASCII."""
    if not body:
        return None
    if not body.endswith(b"\n"):
        body += b"\n"
    a = np.frombuffer(body, dtype=np.uint8)
    if a.max() >= 128:
        return None
    is_sep = a == COMMA
    nl = a == NEWLINE
    np.logical_or(is_sep, nl, out=is_sep)
    ends = np.flatnonzero(is_sep)  # one separator after every cell
    line_ends = np.flatnonzero(nl)
    rows = line_ends.size
    if ends.size != rows * k or not np.array_equal(ends[k - 1::k], line_ends):
        return None  # some line has a different number of cells (or is empty)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    # Bytes that are neither digits nor '.', '-', nor separators: their cells are odd.
    digit = (a >= 48) & (a <= 57)
    plain = digit | is_sep | (a == DOT) | (a == MINUS)
    cell_of = np.cumsum(is_sep, dtype=np.int32)  # the cell each byte belongs to
    odd_mask = np.zeros(ends.size, dtype=bool)
    bad = np.flatnonzero(~plain)
    if bad.size:
        odd_mask[cell_of[bad]] = True
    dots = np.flatnonzero(a == DOT)
    dot_cell = cell_of[dots]
    if dots.size > 1:  # two dots in a cell
        odd_mask[dot_cell[1:][dot_cell[1:] == dot_cell[:-1]]] = True
    minus = np.flatnonzero(a == MINUS)
    sign_cell = cell_of[minus]
    odd_mask[sign_cell[minus != starts[sign_cell]]] = True  # a '-' not at the start
    # Digits: each one times 10 ** (the digits after it in its cell).
    dpos = np.flatnonzero(digit)
    dcell = cell_of[dpos]
    count = np.bincount(dcell, minlength=ends.size)
    odd_mask |= count > 15
    nonempty = starts < ends
    odd_mask |= nonempty & (count == 0)  # "-", ".", "-."
    last = np.cumsum(count) - 1  # index (among digits) of each cell's last digit
    power = last[dcell] - np.arange(dpos.size)
    np.minimum(power, 15, out=power)
    contrib = (a[dpos] - 48) * _POW10[power]
    mant = np.bincount(dcell, weights=contrib, minlength=ends.size)
    # Decimals: the digits after the dot (all bytes after it in a plain cell).
    scale = np.ones(ends.size)
    scale[dot_cell] = _POW10[np.minimum(ends[dot_cell] - dots - 1, 15)]
    mant /= scale
    mant[sign_cell] *= -1.0
    mant[~nonempty] = np.nan
    odd = np.flatnonzero(odd_mask)
    mant[odd] = np.nan
    return Cells(mant.reshape(rows, k), odd, starts, ends)
