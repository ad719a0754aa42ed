"""Real oximon processes for the fault tests: start one, wait for a line, signal it."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1",
            **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "oximon", *argv], cwd=ROOT, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proc: subprocess.Popen[str], needle: str, timeout: float = 60.0) -> list[str]:
    """Lines of stdout up to the first that contains `needle` (AssertionError on timeout
    or exit)."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"no line with {needle!r} (rc {proc.poll()}); got {seen[-5:]}")


def finish(proc: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run(*argv: str, env: dict[str, str] | None = None, timeout: float = 120.0
        ) -> tuple[int, str, str]:
    return finish(spawn(*argv, env=env), timeout)
