"""Reading a configuration file (a site file, an alarm profile) without trusting it.

A file given on the command line or found in the config folder might be anything: a FIFO
(reading it hangs), a symlink to /dev/zero (reading it never ends), a huge file, bytes
that are not UTF-8, or TOML nested deeper than the parser's recursion limit. Each of those
becomes one clear error naming the file (the CLI's exit 2), instead of a hang, a
MemoryError or "internal error: RecursionError".
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

MAX_BYTES = 1_000_000  # a site file or profile is a few kB; a megabyte is not a config
MAX_DEPTH = 32  # brackets/tables nested deeper than this are not a config either


class UnsafeFile(ValueError):
    """The file cannot be read as a configuration file; the message names it."""


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The file's text. FileNotFoundError passes through (callers decide whether a missing
    file is an error); everything else wrong is UnsafeFile naming the file."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not hang before we can look at it
        # (Windows has no FIFOs to open, nor the flag). os.open is close-on-exec already.
        fd = os.open(path, os.O_RDONLY if sys.platform == "win32"
                     else os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnsafeFile(f"{path}: cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path}: not a regular file (a device, FIFO or folder); give "
                             "the path of a .toml file")
        if info.st_size > max_bytes:
            raise UnsafeFile(f"{path}: too large for a configuration file "
                             f"({info.st_size} bytes; at most {max_bytes})")
        data = b""
        while len(data) <= max_bytes:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        if len(data) > max_bytes:
            raise UnsafeFile(f"{path}: too large for a configuration file (more than "
                             f"{max_bytes} bytes)")
    except OSError as exc:
        raise UnsafeFile(f"{path}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UnsafeFile(f"{path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} "
                         "at offset " f"{exc.start}); save the file as UTF-8") from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings and comments (a cheap upper bound:
    good enough to refuse a file before the recursive parser sees it)."""
    depth = deepest = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote or c == "\n":  # a one-line string ends at the line's end
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


def load_toml(path: Path, text: str | None = None, *, max_depth: int = MAX_DEPTH
              ) -> dict[str, Any]:
    """Parse a TOML configuration file safely (see `read_text`); tomllib's own errors are
    returned to the caller as tomllib.TOMLDecodeError."""
    import tomllib  # (here: importing this module must not cost its regexes)

    text = read_text(path) if text is None else text
    if nesting_depth(text) > max_depth:
        raise UnsafeFile(f"{path}: nested more than {max_depth} levels deep; not a "
                         "configuration file")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise UnsafeFile(f"{path}: nested too deeply to read") from None
