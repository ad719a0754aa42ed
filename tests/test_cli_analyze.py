"""`oximon analyze`: JSON contract, readable summary, exit 2 on bad input."""

from __future__ import annotations

import json

from oximon.cli import main
from tests.synthetic import generate, write_csv


def test_json_output_is_the_design_object(tmp_path, capsys):
    path = tmp_path / "rec.csv"
    write_csv(path, generate(4, 1200))
    assert main(["analyze", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert list(d) == ["duration_s", "valid_s", "metrics", "events", "alarms", "note"]
    assert d["duration_s"] == 1200.0 and d["alarms"]


def test_summary_is_readable(tmp_path, capsys):
    path = tmp_path / "rec.csv"
    write_csv(path, generate(4, 1200))
    assert main(["analyze", str(path), "--profile", "bc-ops-default"]) == 0
    out = capsys.readouterr().out
    assert "time below 90 %" in out and "spo2_low" in out


def test_bad_file_exits_2_naming_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("time,spo2,pr\n0,97,70\n1,abc,70\n")
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "spo2" in err
    assert main(["analyze", str(tmp_path / "missing.csv")]) == 2


def test_bad_profile_exits_2_naming_the_key(tmp_path, capsys):
    path = tmp_path / "rec.csv"
    write_csv(path, generate(4, 60))
    prof = tmp_path / "p.toml"
    prof.write_text("[artifact]\nhold_s = 'long'\n")
    assert main(["analyze", str(path), "--profile", str(prof)]) == 2
    assert "artifact.hold_s" in capsys.readouterr().err
