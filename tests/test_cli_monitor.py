"""`oximon monitor` and the CLI's exit-code contract."""

import json
import subprocess
import sys

import pytest

from oximon.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_monitor_json_prints_a_raised_high_alarm_for_a_slow_desaturation(capsys):
    code, out, err = run_cli(capsys, "monitor", "--source", "sim:slow-desat:3",
                             "--duration", "600", "--speed", "2000", "--json")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    raised = [e for e in events if e["type"] == "alarm" and e["state"] == "raised"
              and e["condition"] == "spo2_low"]
    assert raised[0]["priority"] == "high"
    assert raised[0]["station"] == "sim-1"
    assert 200 < raised[0]["t"] < 600
    assert all(set(e) >= {"type", "state", "t"} for e in events)


def test_monitor_replay_ends_with_the_file_and_stamps_file_time(capsys, tmp_path):
    csv = tmp_path / "r.csv"
    fall = {298: 94, 299: 91}
    csv.write_text("time,spo2,pr\n" + "".join(
        f"{i},{fall.get(i, 97 if i < 300 else 88)},70\n" for i in range(400)))
    code, out, _ = run_cli(capsys, "monitor", "--source", f"replay:{csv}", "--speed", "400",
                           "--json")
    assert code == 0
    raised = {e["condition"]: e for e in map(json.loads, out.splitlines())
              if e["state"] == "raised"}
    assert abs(raised["spo2_low"]["t"] - 315) <= 2  # 15 s after it fell below 90
    assert raised["spo2_drop"]["priority"] == "medium"  # fell 9 points below baseline
    assert raised["spo2_drop"]["t"] < raised["spo2_low"]["t"]


def test_monitor_records_what_it_saw(capsys, tmp_path):
    code, _, _ = run_cli(capsys, "monitor", "--source", "sim:normal:1", "--source",
                         "sim:finger-out:2", "--duration", "90", "--speed", "600",
                         "--record", str(tmp_path))
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim-1.csv", "sim-2.csv"]
    lines = (tmp_path / "sim-2.csv").read_text().splitlines()
    assert lines[0] == "time,spo2,pr,pi,flags"
    assert any(line.endswith("finger_out") for line in lines)
    assert 85 <= len(lines) - 1 <= 91


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["monitor", "--source", "sim:sleepy"], "unknown scenario 'sleepy'"),
        (["monitor", "--source", "sim:normal:x"], "seed 'x'"),
        (["monitor", "--source", "usb:1"], "source 'usb:1'"),
        (["monitor", "--source", "replay:/nonexistent.csv"], "/nonexistent.csv: no such file"),
        (["monitor", "--source", "sim:normal", "--speed", "-3"], "--speed"),
        (["monitor", "--source", "sim:normal", "--duration", "soon"], "--duration"),
        (["monitor"], "--source"),
        (["monitor", "--source", "sim:normal", "--profile", "/nope.toml"], "/nope.toml"),
        (["dashboard", "--demo", "--stations", "99"], "--stations"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_usage_exits_2_naming_the_argument(capsys, argv, words):
    with pytest.raises(SystemExit) as info:
        sys.exit(main(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


def test_bad_csv_line_is_named_and_exit_2(capsys, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("time,spo2,pr\n0,97,70\n1,97,seventy\n")
    code, _, err = run_cli(capsys, "monitor", "--source", f"replay:{csv}")
    assert code == 2
    assert f"{csv}, line 3, column 'pr'" in err


def test_console_entry_point_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "oximon", "monitor", "--source",
                           "sim:sleepy"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown scenario" in proc.stderr and "Traceback" not in proc.stderr
