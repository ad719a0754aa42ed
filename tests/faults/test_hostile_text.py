"""Failure 3 and the text half of 4 (issue 14): a carriage return, line feed or escape code
in an alias or a note never splits a CSV row, starts a formula, or reaches a terminal; and
entry refuses such text with a message naming the field."""

from __future__ import annotations

import csv
import io

import pytest

from oximon.cli import main
from oximon.config import ConfigError, load_config
from oximon.report import build_report
from oximon.report import to_csv as report_csv
from oximon.safe_text import csv_cell, terminal_text
from oximon.store import IncidentError
from oximon.types import Station
from tests.store.storerig import Rig
from tests.test_report import at, incident

HOSTILE = "Booth 1\r=2+2"


def _hostile_incident(url: str) -> Rig:
    rig = Rig(url)
    # As a record written before entry checks existed would hold it (the store's own entry
    # point neutralises it now, so it is put in behind the facade's back).
    rig.store._book.stations["s1"] = Station("s1", alias=HOSTILE, booth="1\n=3+3")
    rig.feed(0, 5)
    rig.alarm("raised", 5)
    return rig


def test_incident_export_keeps_one_row_per_incident_and_no_formula(tmp_path):
    rig = _hostile_incident(str(tmp_path / "s.db"))
    iid = rig.open_id()
    rig.close()
    code = main(["incidents", "export", "--db", str(tmp_path / "s.db"),
                 "--output", str(tmp_path / "x.csv")])
    assert code == 0
    raw = (tmp_path / "x.csv").read_text()
    assert "\r" not in raw and raw.count("\n") == 2  # header + one incident, nothing else
    rows = list(csv.reader(io.StringIO(raw)))
    assert len(rows) == 2
    alias = rows[1][rows[0].index("alias")]
    assert alias == "Booth 1 =2+2" and rows[1][0] == iid
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_monthly_report_csv_neutralises_cr_lf_and_formulas():
    incs = [incident(1, "Booth 1\r=2+2", at(9)), incident(2, "st-2", at(9))]
    incs.append(incident(3, "\n=cmd|' /C calc'!A0", at(10)))
    text = report_csv(build_report(incs, 2026, 3, suppress=False))
    rows = list(csv.reader(io.StringIO(text)))
    assert "\r" not in text
    assert all(len(r) == len(rows[0]) for r in rows)
    assert not any(c.lstrip(" ").startswith(("=", "+", "-", "@")) for r in rows for c in r)
    assert text.startswith('"month"')  # every cell quoted


@pytest.mark.parametrize("value", ["\r=1", "\n@SUM(A1)", "  -2+3", "\x1b[31mred", "a\tb"])
def test_csv_cell_neutralises_every_control_character(value):
    cell = csv_cell(value)
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in cell)
    assert not cell.lstrip(" ").startswith(("=", "+", "-", "@"))


def test_terminal_output_has_no_escape_codes(tmp_path, capsys):
    rig = Rig(str(tmp_path / "s.db"))
    rig.store._book.stations["s1"] = Station("s1", alias="\x1b]0;pwned\x07\x1b[2J", booth="1")
    rig.feed(0, 5)
    rig.alarm("raised", 5)
    iid = rig.open_id()
    rig.close()
    assert main(["incidents", "show", iid, "--db", str(tmp_path / "s.db")]) == 0
    assert main(["incidents", "list", "--db", str(tmp_path / "s.db")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert terminal_text("a\x1bb\nc") == "a b\nc"


def test_entry_refuses_control_characters_in_notes_names_and_details(tmp_path):
    rig = Rig(str(tmp_path / "s.db"))
    rig.feed(0, 5)
    rig.alarm("raised", 5)
    iid = rig.open_id()
    with pytest.raises(IncidentError, match="note: control characters"):
        rig.store.close_incident(iid, 6, "responsive", by="w", note="ok\r=2+2")
    with pytest.raises(IncidentError, match="name: control characters"):
        rig.store.record_action(iid, "stimulated", 6, by="w\x1b[2J")
    with pytest.raises(IncidentError, match=r"details\.substance"):
        rig.store.record_details(iid, "sup", substance="fent\r=1")
    rig.store.close_incident(iid, 7, "responsive", by="w", note="two\nlines are fine")
    rig.store.add_station(Station("s3", alias="x\x1b[31m", booth="3"))
    assert rig.store._book.stations["s3"].alias == "x [31m"
    rig.close()


def test_site_file_refuses_an_alias_with_control_characters(tmp_path):
    p = tmp_path / "site.toml"
    p.write_text('[[stations]]\nid = "booth-1"\nalias = "Booth 1\\r=2+2"\n')
    with pytest.raises(ConfigError, match=r"site.toml: stations\[0\]: key 'alias': control"):
        load_config(p)
    assert main(["dashboard", "--config", str(p)]) == 2
