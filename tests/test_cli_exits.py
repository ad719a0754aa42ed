"""Exit codes and messages at the edges: bad numbers, dead sources, a closed stdout,
`--debug` after the subcommand. Never a traceback to a user."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

import oximon.cli.wiring as wiring
from oximon.cli import main
from oximon.clock import Clock
from oximon.types import DeviceInfo, DeviceState, SourceEvent, StateChange


@pytest.mark.parametrize(("argv", "words"), [
    (["monitor", "--source", "sim:normal:-1"], "seed -1 must be 0 or more"),
    (["monitor", "--source", "sim:normal", "--speed", "0"], "--speed"),
    (["monitor", "--source", "sim:normal", "--speed", "1e300"], "at most 10000"),
    (["monitor", "--source", "sim:normal", "--speed", "nan"], "--speed"),
    (["dashboard", "--demo", "--speed", "0"], "--speed"),
    (["dashboard", "--demo", "--speed", "1e300"], "at most 10000"),
    (["dashboard", "--demo", "--duration", "inf"], "--duration"),
])
def test_bad_numbers_exit_2_naming_the_argument(capsys, argv, words):
    with pytest.raises(SystemExit) as info:
        sys.exit(main(argv))
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert words in err and "internal error" not in err and "Traceback" not in err


def test_debug_is_accepted_after_the_subcommand(capsys, tmp_path):
    code = main(["analyze", str(tmp_path / "missing.csv"), "--debug"])
    err = capsys.readouterr().err
    assert code == 2 and "no such file" in err and "unrecognized" not in err
    code = main(["incidents", "list", "--debug", "--db", f"sqlite:///{tmp_path}/none.db"])
    assert "unrecognized" not in capsys.readouterr().err


class _DyingSource:
    info = DeviceInfo(address="test:dying", transport="sim", protocol="sim")

    async def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        yield StateChange(clock.now(), DeviceState.CONNECTING)
        await clock.sleep(1.0)
        raise RuntimeError("cable fell out")


def test_monitor_whose_only_source_died_exits_1_with_a_message(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(wiring, "open_source", lambda spec, waveform=True: _DyingSource())
    code = main(["monitor", "--source", "sim:normal", "--speed", "100", "--duration", "30",
                 "--db", f"sqlite:///{tmp_path}/i.db"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "every source's reader failed" in err and "cable fell out" in err
    assert "monitoring_stopped" in out  # the alarm was still raised while running
    assert "Traceback" not in err


def test_monitor_stops_quietly_when_its_reader_goes_away(tmp_path):
    """`oximon monitor --json | head -1`: no BrokenPipeError traceback, and it stops."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "oximon", "monitor", "--json", "--speed", "500",
         "--duration", "3600", "--db", f"sqlite:///{tmp_path}/i.db",
         *(a for i in range(6) for a in ("--source", f"sim:mixed:{i + 1}"))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert first.startswith(b"{")
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 0


def test_dashboard_without_a_screen_exits_1_saying_what_to_do(capsys, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("only Linux desktops can lack a display server")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code = main(["dashboard", "--demo", "--duration", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no screen" in err and "QT_QPA_PLATFORM=offscreen" in err
    assert "oximon monitor" in err
