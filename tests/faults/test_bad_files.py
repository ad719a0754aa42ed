"""Failure 4 (issue 14): profile and site files that are not UTF-8, nested 100,000 deep, a
symlink to /dev/zero, a FIFO or huge: exit 2 naming the file, at once, in bounded memory.
Run as real processes, with a timeout (the FIFO used to hang forever)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {}
    files["latin1"] = tmp / "latin1.toml"
    files["latin1"].write_bytes(b'[site]\nname = "Caf\xe9"\n')
    files["nested"] = tmp / "nested.toml"
    files["nested"].write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    files["zero"] = tmp / "zero.toml"
    files["zero"].symlink_to("/dev/zero")
    files["fifo"] = tmp / "fifo.toml"
    os.mkfifo(files["fifo"])
    files["huge"] = tmp / "huge.toml"
    files["huge"].write_text("# " + "x" * 3_000_000 + "\n")
    files["folder"] = tmp / "folder.toml"
    files["folder"].mkdir()
    return files


def _oximon(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "oximon", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", ["latin1", "nested", "zero", "fifo", "huge", "folder"])
@pytest.mark.parametrize("flag", ["--profile", "--config"])
def test_a_bad_file_is_exit_2_naming_it(tmp_path, kind, flag):
    path = _bad_files(tmp_path)[kind]
    argv = (["monitor", "--source", "sim:normal", "--duration", "1", "--db",
             str(tmp_path / "s.db"), "--profile", str(path)] if flag == "--profile"
            else ["dashboard", "--config", str(path)])
    got = _oximon(*argv)
    assert got.returncode == 2, got.stderr
    assert str(path) in got.stderr
    assert "internal error" not in got.stderr and "Traceback" not in got.stderr


def test_the_non_utf8_message_says_where(tmp_path):
    from oximon.config import ConfigError, load_config

    p = _bad_files(tmp_path)["latin1"]
    with pytest.raises(ConfigError, match=r"latin1.toml: line 2: not UTF-8 text \(byte 0xe9"):
        load_config(p)
