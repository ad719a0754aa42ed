"""Keep freed memory for reuse in a batch run (glibc's malloc; elsewhere a no-op).

Why: numpy's large arrays (a 24 h recording's columns, ~0.7 MB each) are, by glibc's
default, mapped fresh from the kernel on every allocation and unmapped on free, so each
reuse pays its first-touch page faults again: ~3,700 faults of `oximon analyze` on a 24 h
file, a tenth of its run. Raising the mmap and trim thresholds serves those arrays from the
heap and keeps freed pages for the next array. The cost is only that a process holds its
peak memory until it exits, which a command that analyses and exits does anyway.
"""

from __future__ import annotations

import sys

# mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# glibc caps the mmap threshold at 32 MB on 64-bit builds (larger values are refused):
# arrays above it (a month at 1 Hz) are still mapped, as they should be.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024


def reuse_freed_memory() -> bool:
    """Ask the C allocator to keep freed memory; True if it agreed (glibc on Linux).
    Changes no result, only where memory comes from."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # (numpy has imported it already: no cost)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
