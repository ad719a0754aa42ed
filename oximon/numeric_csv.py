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
SPAN = 1 << 18  # bytes of the body looked at at once when finding its separators


class Cells:
    """A body of `rows` lines of `k` cells: each column's values (`columns[j]`, NaN where a
    cell is empty), the cells that are not plain numbers (`odd`, flat indices row * k +
    column), and where each cell's bytes end (`ends`, flat; `bounds(j)` gives a column's
    starts and ends, `starts` all the starts)."""

    def __init__(self, columns: np.ndarray, odd: np.ndarray, ends: np.ndarray):
        self.columns, self.odd, self.ends = columns, odd, ends

    @property
    def values(self) -> np.ndarray:
        """rows x k."""
        return self.columns.T

    @property
    def starts(self) -> np.ndarray:
        """Where each cell's bytes start (flat), the byte after the separator before it."""
        starts = np.empty_like(self.ends)
        starts[0] = 0
        starts[1:] = self.ends[:-1] + 1
        return starts

    def bounds(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Column j's cells: where each starts and ends (int32 where the body allows):
        built for the column alone (a copy of every cell's start would cost a 24 h file
        ~3 MB of fresh memory, more in page faults than the work)."""
        k, ends = self.columns.shape[0], self.ends
        wide = np.int32 if ends[-1] < 2**31 - 32 else np.int64  # (+ a cell's length)
        starts = np.empty(self.columns.shape[1], dtype=wide)
        if j:
            np.add(ends[j - 1::k], 1, out=starts, casting="unsafe")
        else:
            starts[0] = 0
            np.add(ends[k - 1:-1:k], 1, out=starts[1:], casting="unsafe")
        return starts, ends[j::k].astype(wide)


def parse(data: bytes, k: int, words: int = -1, offset: int = 0) -> Cells | None:
    """The cells of `data[offset:]` (lines ending in \\n, the last one may not; trailing
    empty lines ignored), or None if a line is empty or has other than k cells, or the
    body is not ASCII. Column `words` (if any) is not parsed: its values are NaN, its
    cells never odd. Reads `data` in place (no copy of the body)."""
    end = len(data)
    while end > offset and data[end - 1] == NEWLINE:
        end -= 1
    if end <= offset:
        return None
    if not data.isascii():
        return None
    a = np.frombuffer(data, dtype=np.uint8, count=end - offset, offset=offset)
    ends = _cell_ends(data, a, offset, k)
    if ends is None:
        return None  # some line has a different number of cells (or is empty)
    rows = ends.size // k
    columns = np.full((k, rows), np.nan)
    cells = Cells(columns, _none(), ends)
    marks = (data.find(b".", offset, end) >= 0, data.find(b"-", offset, end) >= 0)
    odd = [_column(a, *cells.bounds(j), columns[j], *marks) * k + j
           for j in range(k) if j != words]
    if odd:
        cells.odd = np.sort(np.concatenate(odd))
    return cells


def _cell_ends(data: bytes, a: np.ndarray, offset: int, k: int) -> np.ndarray | None:
    """Where each cell of the body `a` (= data[offset:], no trailing newline) ends: the
    index of the comma or newline after it (the body's length for the last), int32 while
    the body allows; None unless every line has exactly k cells. Scanned SPAN bytes at a
    time into buffers reused from span to span: whole-body masks and an int64 index would
    cost a 24 h file ~5 MB of fresh memory, more in page faults than the scan itself."""
    n = a.size
    rows = data.count(b"\n", offset, offset + n) + 1
    count = rows * k
    ends = np.empty(count, dtype=np.int32 if n < 2**31 - 32 else np.int64)
    ends[-1] = n
    sep = np.empty(min(n, SPAN), dtype=bool)
    newline = np.empty(sep.size, dtype=bool)
    got = 0
    for lo in range(0, n, SPAN):
        part = a[lo:lo + SPAN]
        m = part.size
        np.equal(part, COMMA, out=sep[:m])
        np.equal(part, NEWLINE, out=newline[:m])
        np.logical_or(sep[:m], newline[:m], out=sep[:m])
        at = np.flatnonzero(sep[:m])
        if got + at.size > count - 1:
            return None
        np.add(at, lo, out=ends[got:got + at.size], casting="unsafe")
        got += at.size
    if got != count - 1:
        return None
    # Every k-th end a newline: with as many ends as rows x k, each line has k cells.
    if k > 1 and not bool((a[ends[k - 1:-1:k]] == NEWLINE).all()):
        return None
    return ends


def _none() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def _column(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray,
            dots: bool, minus: bool) -> np.ndarray:
    """One column's cells into `out` (NaN where empty or odd); returns the odd rows.
    Horner from each cell's first byte on, one pass per byte position, in exact integers
    (the dot and minus checks only when the body has any)."""
    length = np.subtract(ends, starts, dtype=np.int32, casting="unsafe")
    most = min(int(length.max()) if length.size else 0, 17)  # longer cells are odd
    if 4 <= most <= 8 and not dots and not minus and a.size >= 8:
        return _short_integers(a, ends, length, out)
    # (int32 while a cell cannot hold 10 digits: half the bytes per pass)
    mant = np.zeros(ends.size, dtype=np.int32 if most <= 9 else np.int64)
    digits = np.zeros(ends.size, dtype=np.int32)
    dot_at = np.full(ends.size, -1, dtype=np.int32)  # digits before the dot (-1: none)
    bad = length > 17
    sign: np.ndarray | None = None
    # Where each cell's j-th byte is, in take's own index type, and that byte: buffers
    # reused from byte to byte (fresh ones cost a 24 h file ~1,600 page faults).
    at = starts.astype(np.intp)
    digit = np.empty(ends.size, dtype=np.uint8)
    for j in range(most):
        here = length > j
        if j:
            at += 1
        a.take(at, out=digit, mode="clip")  # (past the end: masked by `here`)
        digit -= np.uint8(48)  # (wraps for the other bytes: >= 10)
        is_digit = digit < 10
        is_digit &= here
        np.multiply(mant, 10, out=mant, where=is_digit)
        np.add(mant, digit, out=mant, where=is_digit)
        digits += is_digit
        ok = is_digit
        if dots:
            is_dot = (digit == np.uint8(DOT - 48 + 256)) & here
            bad |= is_dot & (dot_at >= 0)  # a second dot
            np.copyto(dot_at, digits, where=is_dot)
            ok = ok | is_dot
        if minus and j == 0:
            is_minus = (digit == np.uint8(MINUS - 48 + 256)) & here
            sign = is_minus
            ok = ok | is_minus
        bad |= here & ~ok
    bad |= digits > 15
    bad |= (length > 0) & (digits == 0)  # "-", ".", "-."
    np.copyto(out, mant, casting="unsafe")  # exact: below 2 ** 53
    if dots:
        frac = np.where(dot_at >= 0, digits - dot_at, 0)
        out /= _POW10[np.minimum(frac, 15)]
    if sign is not None:
        out[sign] *= -1.0
    out[length == 0] = np.nan
    odd = np.flatnonzero(bad)
    out[odd] = np.nan
    return odd


_ZEROS = np.uint64(0x3030303030303030)  # "00000000"
_NINE_UP = np.uint64(0x7676767676767676)  # a byte over 9 plus this sets its top bit
_TOPS = np.uint64(0x8080808080808080)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_PAIRS = np.uint64(0x000000FF000000FF)


def _short_integers(a: np.ndarray, ends: np.ndarray, length: np.ndarray,
                    out: np.ndarray) -> np.ndarray:
    """`_column` for a column of cells of at most 8 bytes in a body without dots or minus
    signs (integer times, SpO2, pulse): each cell's 8 bytes ending at its end loaded as one
    little-endian word, its bytes before the cell masked off, checked for digits and
    turned into the number all at once, eight digits in three multiplications (Lemire's
    SWAR conversion), instead of a dozen passes per byte position."""
    word = np.ndarray((a.size - 7,), dtype="<u8", buffer=a, strides=(1,))  # (unaligned)
    at = ends.astype(np.intp)
    at -= 8
    early = np.flatnonzero(at < 0).tolist()  # (the body's first cells: loaded below)
    np.maximum(at, 0, out=at)
    x = word[at].astype(np.uint64, copy=False)
    for r in early:  # the first cell's bytes, as if preceded by zeros
        e = int(ends[r])
        x[r] = int.from_bytes(bytes(8 - e) + a[:e].tobytes(), "little")
    # Two buffers for every step (fresh ones would cost page faults): x, and `at` reused.
    tmp = at.view(np.uint64)
    np.subtract(8, length, out=tmp, casting="unsafe")
    tmp <<= np.uint64(3)
    np.left_shift(_ALL, tmp, out=tmp)  # the cell's own bytes (a shift by 64 gives 0)
    x ^= _ZEROS
    x &= tmp  # (before the cell: zeros, read as leading zeros)
    np.add(x, _NINE_UP, out=tmp)
    tmp |= x
    tmp &= _TOPS
    bad = tmp != 0  # a byte that is not a digit
    np.right_shift(x, np.uint64(8), out=tmp)
    x *= np.uint64(10)  # (wraps like C's unsigned arithmetic: the algorithm allows it)
    x += tmp  # each even byte now holds a two-digit number
    np.right_shift(x, np.uint64(16), out=tmp)
    tmp &= _PAIRS
    tmp *= np.uint64(1 + (10000 << 32))
    x &= _PAIRS
    x *= np.uint64(100 + (1000000 << 32))
    x += tmp
    x >>= np.uint64(32)
    np.copyto(out, x, casting="unsafe")  # (below 10 ** 8: exact)
    out[length == 0] = np.nan
    odd = np.flatnonzero(bad)
    out[odd] = np.nan
    return odd
