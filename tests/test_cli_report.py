"""`oximon report`: numbers in the CSV match the store, text in the PDF, bad input exit 2."""

from __future__ import annotations

import csv
import io

import pytest

from oximon.cli import main
from oximon.cli.simulate import simulate_month
from oximon.store import open_store
from tests.pdftext import pdf_text


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'incidents.db'}"
    simulate_month(url, 2026, 3, incidents=14, seed=5)
    return url


def no_suppression(tmp_path):
    path = tmp_path / "exact.toml"
    path.write_text("[review]\nsuppress_small_counts = false\n")
    return str(path)


def test_csv_numbers_match_the_store(db, tmp_path, capsys):
    assert main(["report", "--month", "2026-03", "--db", db,
                 "--profile", no_suppression(tmp_path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    with open_store(db) as store:
        summaries = store.list_incidents()
        audit = store.access_entries()  # reads are in the access log (issue 14)
    total = rows[-1]
    assert total["station"] == "All stations" and total["month"] == "2026-03"
    assert int(total["incidents"]) == len(summaries) == 14
    assert int(total["naloxone_doses"]) == sum(s.naloxone_doses for s in summaries)
    assert int(total["calls_911"]) == sum(1 for s in summaries if s.called_911_ts)
    assert int(total["transports"]) == sum(1 for s in summaries
                                           if "transported" in (s.outcome or ""))
    per_station = {r["station"]: int(r["incidents"]) for r in rows[:-1]}
    assert sum(per_station.values()) == 14
    for alias in per_station:
        assert per_station[alias] == sum(1 for s in summaries if s.alias == alias)
    assert float(total["median_alarm_to_ack_s"]) > 0
    import getpass
    exported = [a for a in audit if a["action"] == "report.exported"]  # the GUI's word too
    assert exported and exported[-1]["actor"] == getpass.getuser()


def test_csv_suppresses_small_counts_by_default(db, tmp_path):
    out = tmp_path / "r.csv"
    assert main(["report", "--month", "2026-03", "--db", db, "--output", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(out.open()))
    cells = [r[c] for r in rows for c in ("incidents", "naloxone_doses", "calls_911",
                                          "transports")]
    assert "<5" in cells
    assert not any(c in {"1", "2", "3", "4"} for c in cells)


def test_pdf_has_the_report_text(db, tmp_path, qapp):
    out = tmp_path / "r.pdf"
    assert main(["report", "--month", "2026-03", "--db", db, "--output", str(out),
                 "--profile", no_suppression(tmp_path), "--site", "Test OPS"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = pdf_text(out)
    assert "Monthly report — March 2026" in text and "Test OPS" in text
    assert "Incidents: 14" in text and "All stations" in text
    assert "NOT suppressed" in text


def test_an_empty_month_is_a_report_of_zeros(db, capsys):
    assert main(["report", "--month", "2026-05", "--db", db, "--format", "csv"]) == 0
    total = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))[-1]
    assert total["incidents"] == "0"


@pytest.mark.parametrize(("argv", "names"), [
    (["--month", "2026-13"], "argument --month"),
    (["--month", "March"], "argument --month"),
    (["--month", "2026-03", "--format", "pdf"], "argument --output"),
    (["--month", "2026-03", "--output", "/no/such/dir/r.csv"], "argument --output"),
    (["--month", "2026-03", "--db", "sqlite:////no/such/dir/x.db"], "--db"),
])
def test_bad_input_exit_2_naming_the_argument(argv, names, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(["report", *argv])
        raise SystemExit(code)
    assert exc.value.code == 2
    assert names in capsys.readouterr().err


def test_review_command_parses_and_bad_db_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["review", "--db", "sqlite:////no/such/dir/x.db"]))
    assert exc.value.code == 2
    assert "--db" in capsys.readouterr().err
