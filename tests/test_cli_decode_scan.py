"""`oximon decode` and `oximon scan`: output contract, exit codes, no Bluetooth."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from oximon.cli import main
from oximon.drivers import ble


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_decode_stream_split_across_arguments(capsys) -> None:
    code, out, err = run(["decode", "berrymed", "12 34 84 32 05", "4862864047166184"], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["spo2"], r["pr"]) for r in rows] == [(98, 72), (97, 150)]
    assert all({"spo2", "pr", "pi", "flags"} <= set(r) for r in rows)
    assert "2 bytes skipped" in err and "1 byte of an incomplete frame" in err


def test_decode_invalid_reading_is_null_with_flags(capsys) -> None:
    code, out, _ = run(["decode", "cms50", "01e980c090ffffffff"], capsys)
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and row["spo2"] is None and row["pr"] is None and row["pi"] is None
    assert row["flags"] == ["finger_out"]


def test_decode_other_frames_have_no_reading_keys(capsys) -> None:
    code, out, _ = run(["decode", "viatom", "aa550f070231302e2d2c81aa55f0030303f6"
                        "aa550f08016144000000c094"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r.get("frame") for r in rows] == ["waveform", "battery", None]
    assert "spo2" not in rows[0] and rows[2]["spo2"] == 97


def test_decode_plx_each_argument_is_a_record(capsys) -> None:
    code, out, _ = run(["decode", "plx", "00e8f384f3", "00ff07ff07"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["spo2"], r["pr"]) for r in rows] == [(100, 90), (None, None)]
    assert rows[1]["flags"] == ["searching"]


def test_decode_file_hex_and_binary(tmp_path: Path, capsys) -> None:
    text = tmp_path / "capture.txt"
    text.write_text("# capture\n8432054862 # first\n\n86404716\n61\n")
    code, out, _ = run(["decode", "berrymed", "--file", str(text)], capsys)
    assert code == 0 and len(out.splitlines()) == 2
    binary = tmp_path / "capture.bin"
    binary.write_bytes(bytes.fromhex("01e085b396c1e1ffff") * 3 + b"\x00\xff")
    code, out, err = run(["decode", "cms50", "--file", str(binary)], capsys)
    assert code == 0 and len(out.splitlines()) == 3 and "2 bytes skipped" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["decode", "nonin", "00"], "unknown protocol 'nonin'"),
    (["decode", "berrymed", "84 3z"], "argument HEX #1"),
    (["decode", "berrymed", "843"], "odd number of hex digits"),
    (["decode", "berrymed"], "nothing to decode"),
    (["decode", "berrymed", "--file", "/nonexistent/x.txt"], "cannot read"),
])
def test_decode_usage_errors_exit_2(argv, message, capsys) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and message in err and out == "" and "Traceback" not in err


def test_decode_bad_hex_line_in_file_names_the_line(tmp_path: Path, capsys) -> None:
    f = tmp_path / "c.txt"
    f.write_text("8432054862\nnot hex\n")
    code, _, err = run(["decode", "berrymed", "--file", str(f)], capsys)
    assert code == 2 and f"{f}:2" in err


def no_serial(monkeypatch) -> None:
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: [])


def test_scan_without_bluetooth_says_so_and_lists_serial(monkeypatch, capsys) -> None:
    async def no_dbus(timeout: float):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(ble, "discover", no_dbus)
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: [SimpleNamespace(
        device="/dev/ttyUSB0", description="CP2102 USB to UART", serial_number="1",
        vid=0x10C4, pid=0xEA60)])
    code, out, err = run(["scan", "--timeout", "0.1"], capsys)
    assert code == 0
    assert err.strip().splitlines() == [
        "oximon scan: " + ble.NO_BLUETOOTH.format(why="no system D-Bus")]
    assert "serial:/dev/ttyUSB0" in out and "Traceback" not in err
    no_serial(monkeypatch)
    code, out, err = run(["scan", "--timeout", "0.1"], capsys)
    assert code == 1 and "Bluetooth is not available" in err


def test_scan_lists_oximeters_first_and_hides_others(monkeypatch, capsys) -> None:
    async def found(timeout: float):
        return [ble.Found("C0:FF:EE:00:00:01", "BerryMed", -60, "berrymed"),
                ble.Found("C0:FF:EE:00:00:02", "Phone", -40, "")]

    monkeypatch.setattr(ble, "discover", found)
    no_serial(monkeypatch)
    code, out, _ = run(["scan", "--timeout", "0.1"], capsys)
    assert code == 0
    assert "ble:C0:FF:EE:00:00:01:berrymed" in out and "Phone" not in out
    assert "1 other Bluetooth device not shown" in out
    code, out, _ = run(["scan", "--timeout", "0.1", "--json", "--all"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["protocol"] for r in rows] == ["berrymed", None]


def test_scan_real_bleak_on_this_machine_never_tracebacks(monkeypatch, capsys) -> None:
    """Whatever this machine has (CI has no Bluetooth), scan ends with a clean exit."""
    no_serial(monkeypatch)
    code, out, err = run(["scan", "--timeout", "0.2"], capsys)
    assert code in (0, 1) and "Traceback" not in err and "internal error" not in err
    assert "Serial oximeters" in out


def test_bad_timeout(capsys) -> None:
    code, _, err = run(["scan", "--timeout", "-1"], capsys)
    assert code == 2 and "--timeout" in err
