"""scripts/_setup.sh (the quick start's set-up) with a fake Python: a failed `python3 -m
venv` is reported and never leaves a broken .venv behind, a broken .venv is made again,
and one stamp records the installed extras so demo and test runs do not reinstall."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The venv's python: logs what it was asked; pip works unless a NOPIP marker is there.
VENV_PY = """#!/usr/bin/env bash
echo "$*" >> "$SETUP_LOG"
if [ "$1 $2" = "-m pip" ] && [ -f "$(dirname "$0")/NOPIP" ]; then exit 1; fi
exit 0
"""
# The system python: real for the version check; `-m venv DIR` makes DIR/bin/python, and
# with BROKEN_VENV set fails half-way like Debian without python3-venv (no pip inside).
SYSTEM_PY = f"""#!/usr/bin/env bash
if [ "$1" = "-c" ]; then exec {sys.executable} "$@"; fi
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$FAKE_VENV_PY" "$3/bin/python" && chmod +x "$3/bin/python"
  if [ -n "${{BROKEN_VENV:-}}" ]; then
    touch "$3/bin/NOPIP"
    echo "The virtual environment was not created successfully because ensurepip is not"
    echo "available.  On Debian/Ubuntu systems, you need to install the python3-venv package"
    exit 1
  fi
  exit 0
fi
exit 2
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "_setup.sh", tmp_path / "scripts" / "_setup.sh")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    for name, text in (("venv-python", VENV_PY), ("python3", SYSTEM_PY)):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    return tmp_path


def setup(tree: Path, extra: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, PYTHON=str(tree / "python3"), OXIMON_SKIP_SYSTEM_PACKAGES="1",
                OXIMON_SETUP_EXTRA=extra, FAKE_VENV_PY=str(tree / "venv-python"),
                SETUP_LOG=str(tree / "log"), **env)
    return subprocess.run(["bash", "-c", f"source {tree}/scripts/_setup.sh"], cwd=tree,
                          env=full, capture_output=True, text=True, timeout=30)


def installs(tree: Path) -> list[str]:
    log = tree / "log"
    return [line for line in log.read_text().splitlines()
            if line.startswith("-m pip install") and "--upgrade pip" not in line
            ] if log.exists() else []


def test_failed_venv_is_reported_and_removed(tree: Path) -> None:
    proc = setup(tree, BROKEN_VENV="1")
    assert proc.returncode == 1
    assert "sudo apt-get install python3-venv" in proc.stderr
    assert "ensurepip is not" in proc.stderr  # Python's own reason is shown too
    assert not (tree / ".venv").exists()  # nothing half-made for the next run to trip on


def test_broken_venv_left_behind_is_made_again(tree: Path) -> None:
    (tree / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(tree / "venv-python", tree / ".venv" / "bin" / "python")
    (tree / ".venv" / "bin" / "NOPIP").touch()
    proc = setup(tree)
    assert proc.returncode == 0, proc.stderr
    assert "incomplete" in proc.stderr
    assert not (tree / ".venv" / "bin" / "NOPIP").exists()
    assert installs(tree) == ["-m pip install -q --disable-pip-version-check -e ."]


def test_one_stamp_records_extras_so_demo_and_test_do_not_reinstall(tree: Path) -> None:
    assert setup(tree, "test").returncode == 0
    assert installs(tree) == ["-m pip install -q --disable-pip-version-check -e .[test]"]
    assert setup(tree, "").returncode == 0  # the demo after the tests: nothing to do
    assert setup(tree, "test").returncode == 0
    assert len(installs(tree)) == 1
    assert (tree / ".venv" / ".oximon-installed").read_text().splitlines()[1] == "extras=test"
    (tree / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    assert setup(tree, "").returncode == 0  # changed: reinstall, keeping the test extras
    assert installs(tree)[-1].endswith("-e .[test]") and len(installs(tree)) == 2


def test_demo_first_then_test_installs_the_extra_once(tree: Path) -> None:
    assert setup(tree, "").returncode == 0
    assert setup(tree, "test").returncode == 0
    assert setup(tree, "test").returncode == 0
    assert [i.split()[-1] for i in installs(tree)] == [".", ".[test]"]
