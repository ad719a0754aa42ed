"""`oximon analyze FOLDER --summary OUT.csv`: one row per recording, failures named and
skipped, the batch never stops."""

from __future__ import annotations

import csv

from oximon.cli import main
from tests.synthetic import generate, write_csv


def test_a_folder_to_a_summary_skipping_what_cannot_be_read(tmp_path, capsys):
    folder = tmp_path / "nights"
    (folder / "sub").mkdir(parents=True)
    write_csv(folder / "a.csv", generate(1, 1800))
    write_csv(folder / "sub" / "b.csv", generate(2, 1200))
    (folder / "broken.csv").write_text("time,spo2,pr\n0,97,70\n1,abc,70\n")
    (folder / "notes.txt").write_text("not a recording: not searched")
    out = tmp_path / "summary.csv"
    assert main(["analyze", str(folder), "--summary", str(out), "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert "broken.csv, line 3, column 'spo2'" in err and "2 of 3 recordings" in err
    rows = list(csv.DictReader(out.open()))
    assert [r["path"] for r in rows] == [str(folder / "a.csv"), str(folder / "sub" / "b.csv")]
    assert rows[0]["duration_s"] == "1800.0" and float(rows[0]["ct90"]) >= 0
    assert rows[0]["format"] == "oximon CSV" and rows[0]["note"] == ""


def test_several_files_in_one_process_match_the_single_file_figures(tmp_path, capsys):
    import json

    paths = []
    for seed in (3, 4):
        p = tmp_path / f"r{seed}.csv"
        write_csv(p, generate(seed, 900))
        paths.append(str(p))
    assert main(["analyze", *paths, "--summary", "-", "--jobs", "1"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert main(["analyze", paths[1], "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert float(rows[1]["odi3"]) == one["metrics"]["odi3"]
    assert int(rows[1]["events"]) == len(one["events"])


def test_a_missing_path_is_bad_input(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope"), "--summary", "-"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
