"""`oximon analyze` run as the program ends without the interpreter's teardown: what it
prints, its exit codes and its summary file are those of the in-process command."""

from __future__ import annotations

import json
import subprocess
import sys

from oximon.cli import main
from tests.synthetic import generate, write_csv


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oximon", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def test_the_output_is_the_in_process_commands(tmp_path, capsys):
    path = tmp_path / "r.csv"
    write_csv(path, generate(1, 3600))
    assert main(["analyze", str(path), "--json"]) == 0
    want = capsys.readouterr().out
    got = _program("analyze", str(path), "--json")
    assert got.returncode == 0 and got.stdout == want and json.loads(got.stdout)
    text = _program("analyze", str(path))
    assert text.returncode == 0 and "desaturation events" in text.stdout


def test_bad_input_still_exits_2_with_its_message(tmp_path):
    got = _program("analyze", str(tmp_path / "missing.csv"))
    assert got.returncode == 2 and "no such file" in got.stderr


def test_a_batch_summary_is_complete_on_disk(tmp_path):
    for i in range(2):
        write_csv(tmp_path / f"r{i}.csv", generate(i, 600))
    out = tmp_path / "summary.csv"
    got = _program("analyze", str(tmp_path), "--summary", str(out), "--jobs", "1")
    assert got.returncode == 0, got.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3  # header and two rows


def test_output_that_cannot_be_written_is_an_error_not_silence(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, generate(1, 60))
    try:
        full = open("/dev/full", "w")  # noqa: SIM115  (Linux: every write fails)
    except OSError:
        return
    with full:
        got = subprocess.run([sys.executable, "-m", "oximon", "analyze", str(path), "--json"],
                             stdout=full, stderr=subprocess.PIPE, text=True, check=False,
                             timeout=120)
    assert got.returncode == 1 and "oximon:" in got.stderr
