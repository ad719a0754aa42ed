"""Simulated and replayed runs keep their incidents in a demo store, never in the site's
real log (a practice run must not count in `oximon incidents` or the monthly report)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oximon.cli import main
from oximon.cli.wiring import all_simulated, demo_store_path, open_sources


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home / "oximon"


def test_simulated_run_writes_only_the_demo_store(capsys, data_home: Path) -> None:
    code = main(["monitor", "--source", "sim:slow-desat:3", "--duration", "400",
                 "--speed", "1000", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    opened = [json.loads(line) for line in out.splitlines()
              if '"incident"' in line and '"opened"' in line]
    assert opened  # the simulated person had an incident...
    assert demo_store_path() == data_home / "oximon-demo.sqlite3"
    assert demo_store_path().exists()  # ...kept in the demo store
    assert not (data_home / "oximon.sqlite3").exists()  # the real log was never touched
    assert err.count("demo store") == 1 and str(demo_store_path()) in err
    # The demo store has the incidents, under --db.
    assert main(["incidents", "list", "--format", "json", "--db", str(demo_store_path())]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == len(opened)


def test_a_real_device_or_db_uses_the_given_store(capsys, data_home: Path, tmp_path) -> None:
    db = tmp_path / "chosen.sqlite3"
    assert main(["monitor", "--source", "sim:normal:1", "--duration", "5", "--speed", "100",
                 "--db", str(db)]) == 0
    assert db.exists() and not demo_store_path().exists()
    assert "demo store" not in capsys.readouterr().err


def test_only_all_simulated_runs_count_as_demo() -> None:
    # list(): all_simulated takes a list of optional sources (lists are invariant)
    assert all_simulated(list(open_sources(["sim:normal:1", "sim:apnea:2"])))
    assert not all_simulated(list(open_sources(["sim:normal:1", "serial:/dev/ttyUSB9"])))
    assert not all_simulated([])


def test_dashboard_demo_uses_the_demo_store(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    home = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(home),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "-m", "oximon", "dashboard", "--demo", "--stations",
                           "2", "--duration", "0.5"], capture_output=True, text=True,
                          timeout=60, env=env, cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert (home / "oximon" / "oximon-demo.sqlite3").exists()
    assert not (home / "oximon" / "oximon.sqlite3").exists()
    assert "demo store" in proc.stderr
