"""`monitor --json` is a contract: the same run prints the same bytes.

The golden files were printed by `scripts/monitor_golden.py` (deterministic virtual time,
seeded ids) on main before the typed-event refactor; any change to the JSON lines, their
keys, order or values shows here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"


@pytest.mark.parametrize(("source", "duration", "golden"), [
    ("sim:slow-desat:3", "600", "monitor-slow-desat-3-600s.jsonl"),
    ("sim:mixed:1", "3600", "monitor-mixed-1-3600s.jsonl"),
])
def test_monitor_json_is_byte_identical_to_the_golden_run(source, duration, golden):
    # PYTHONPATH: the code beside this test (a worktree), not the venv's editable install
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "monitor_golden.py"),
                           source, duration], cwd=ROOT, capture_output=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == (GOLDEN / golden).read_bytes()
