"""Reusable scratch arrays for batch analysis.

Why: on this kind of machine most of the cost of a numpy pass over a 24 h record is not
arithmetic but the kernel handing out fresh pages for every full-length temporary (a page
fault per 4 KiB, several µs each in a VM). Batch analysis therefore writes its full-length
intermediates into named buffers that live on between calls (one set per thread), so a
second analysis of a record of similar length touches memory it already has. A later
stage may take over an earlier one's buffer by name once that one is done with it (the
averaging's "i2".."i6", "xalt"): fewer distinct buffers, more of them still in cache.
"""

from __future__ import annotations

# threading.local itself, from the module that defines it (`threading` would cost every
# `oximon analyze` ~0.6 ms of import).
from _thread import _local as _ThreadLocal

import numpy as np

# Buffers above this many bytes in total are not kept after a call (a one-off huge record
# should not pin its memory for the life of the process).
KEEP_BYTES = 256 << 20

class _ThreadScratch(_ThreadLocal):
    """Each thread's own buffers (none until it first asks)."""

    scratch: Scratch | None = None


class Scratch:
    """Named, typed buffers of at least n elements; `get` returns a view of exactly n."""

    def __init__(self) -> None:
        self._bufs: dict[str, np.ndarray] = {}
        self._arange = np.zeros(0, dtype=np.int64)
        self._arange32 = np.zeros(0, dtype=np.int32)

    def get(self, name: str, n: int, dtype: type) -> np.ndarray:
        buf = self._bufs.get(name)
        if buf is None or buf.size < n or buf.dtype != dtype:
            buf = np.empty(max(n, 1024), dtype=dtype)
            self._bufs[name] = buf
        return buf[:n]

    def arange(self, n: int, dtype: type = np.int64) -> np.ndarray:
        """0, 1, ..., n - 1, kept between calls like the buffers: read only."""
        if self._arange.size < n:
            self._arange = np.arange(max(n, 1024), dtype=np.int64)
            self._arange32 = self._arange.astype(np.int32)
        return (self._arange32 if dtype is np.int32 else self._arange)[:n]

    @property
    def nbytes(self) -> int:
        kept = self._arange.nbytes + self._arange32.nbytes
        return sum(b.nbytes for b in self._bufs.values()) + kept


_local = _ThreadScratch()


def scratch() -> Scratch:
    """This thread's scratch buffers."""
    s = _local.scratch
    if s is None:
        s = _local.scratch = Scratch()
    return s


def release_if_large() -> None:
    s = _local.scratch
    if s is not None and s.nbytes > KEEP_BYTES:
        _local.scratch = None
