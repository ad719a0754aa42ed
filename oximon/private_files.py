"""Private files: everything oximon writes about people is readable by this account only.

Two ways to write, one place for each:
- `replace_private(path, text)` for settings a crash must never leave half-written (site
  file, profile, supervisor password): a temp file in the same folder, fsync, mode 0600,
  then an atomic rename.
- `open_private(path)` for exports and recordings: created 0600, and an existing file that
  others could read is made private before anything is written into it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO


def replace_private(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # (here: readers of recordings, e.g. `oximon analyze`, never need it)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def open_private(path: str | Path, binary: bool = False) -> IO:
    """Open `path` for writing (truncated), private whether it is new or not."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # Only a regular file is made private: `--output /dev/null` (or /dev/stdout) run as root
    # would otherwise take every other account's /dev/null away.
    if stat.S_ISREG(os.fstat(fd).st_mode):
        with contextlib.suppress(OSError):  # not ours to change: write anyway
            os.fchmod(fd, 0o600)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
