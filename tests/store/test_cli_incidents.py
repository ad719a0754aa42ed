"""`oximon incidents list|show|export|verify` end to end, on every backend."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from oximon.cli import main
from oximon.types import Station
from tests.store.storerig import Rig


@pytest.fixture
def filled(db_url):
    rig = Rig(db_url)
    rig.store.add_station(Station("s2", alias="=HYPERLINK(\"http://x\")", booth="2"))
    rig.feed(0, 30, spo2=95)
    rig.alarm("raised", 30)
    a = rig.open_id("s1")
    rig.feed(30, 60, spo2=83)
    rig.store.record_action(a, "naloxone", 40, "@worker", {"dose": "1 mL", "route": "IM"})
    rig.store.record_action(a, "911_called", 45, "worker")
    rig.store.record_action(a, "naloxone", 55, "worker", {"dose": "1 mL", "route": "IM"})
    rig.store.record_action(a, "ehs_arrived", 58, "worker")
    rig.store.close_incident(a, 60, "transported", by="worker", note="-1 tricky")
    rig.clock.set(3 * 86400.0)  # three days later
    b = rig.store.open_incident("s2", 3 * 86400.0, by="worker")
    rig.store.close_incident(b, 3 * 86400.0 + 60, "responsive", by="worker")
    rig.close()
    return db_url, a, b, rig


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_show_and_json(filled, capsys):
    db, a, b, _ = filled
    code, out, _ = _run(capsys, "incidents", "list", "--db", db)
    assert code == 0 and a in out and b in out
    code, out, _ = _run(capsys, "incidents", "list", "--format", "json", "--db", db)
    assert [r["id"] for r in json.loads(out)] == [b, a]
    code, out, _ = _run(capsys, "incidents", "show", a[:-3], "--db", db)
    assert code == 0 and "naloxone    2 dose(s)" in out and "transported" in out
    code, out, _ = _run(capsys, "incidents", "show", a, "--format", "json", "--db", db)
    rec = json.loads(out)
    assert rec["id"] == a and len(rec["naloxone"]) == 2 and len(rec["trace"]) == 60
    assert rec["nadir"] == 83 and rec["below90_s"] == 30
    code, _, err = _run(capsys, "incidents", "show", "nope", "--db", db)
    assert code == 2 and "no such incident" in err


def test_export_csv_columns_dates_and_formula_safety(filled, capsys, tmp_path):
    db, a, b, rig = filled
    out_file = tmp_path / "out.csv"
    code, _, _ = _run(capsys, "incidents", "export", "--db", db, "--output", str(out_file))
    assert code == 0 and stat.S_IMODE(out_file.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    by_id = {r["id"]: r for r in rows}
    ra = by_id[a]
    assert ra["naloxone_doses"] == "2" and len(ra["naloxone_times"].split("; ")) == 2
    assert ra["called_911"] and ra["ehs_arrived"] and ra["outcome"] == "transported"
    assert ra["nadir_spo2"] == "83" and ra["below_90_s"] == "30" and ra["below_85_s"] == "30"
    assert by_id[b]["alias"] == "'=HYPERLINK(\"http://x\")"  # not a formula any more
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), cell
    # --since / --until pick by the day the incident opened
    first_day = rig.store._wall(0)
    day = datetime.fromtimestamp(first_day).astimezone().date()
    code, out, _ = _run(capsys, "incidents", "export", "--db", db, "--until", day.isoformat())
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == [a]
    code, out, _ = _run(capsys, "incidents", "export", "--db", db, "--since",
                        (day + timedelta(days=1)).isoformat(), "--format", "json")
    assert [r["id"] for r in json.loads(out)] == [b]
    code, _, err = _run(capsys, "incidents", "list", "--db", db, "--since", "last tuesday")
    assert code == 2 and "not a date" in err


def test_pdf_export(filled, capsys, tmp_path):
    db, a, _, _ = filled
    pdf = tmp_path / "incident.pdf"
    code, _, _ = _run(capsys, "incidents", "show", a, "--format", "pdf", "--output", str(pdf),
                      "--db", db)
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000
    code, _, err = _run(capsys, "incidents", "export", "--format", "pdf", "--db", db)
    assert code == 2 and "--output" in err


def test_verify_passes_then_names_an_edit(filled, capsys):
    db, a, _, _ = filled
    code, out, _ = _run(capsys, "incidents", "verify", "--db", db)
    assert code == 0 and out.startswith("ok:")
    from oximon.store import open_store
    store = open_store(db)
    with store.engine.begin() as conn:
        seq = conn.execute(text("SELECT seq FROM incident_events WHERE kind = 'action' "
                                "ORDER BY seq LIMIT 1")).scalar()
        conn.execute(text("UPDATE incident_events SET actor = 'someone else' WHERE seq = :s"),
                     {"s": seq})
    store.close()
    code, out, _ = _run(capsys, "incidents", "verify", "--db", db)
    assert code == 1
    assert f"record #{seq} (incident {a}, action): was edited after it was recorded" in out
    code, out, _ = _run(capsys, "incidents", "verify", "--format", "json", "--db", db)
    assert code == 1 and json.loads(out)["problems"][0]["seq"] == seq


def test_exports_are_in_the_access_log_not_the_change_chain(filled, capsys):
    db, *_ = filled
    from oximon.store import open_store
    with open_store(db) as store:
        heads = store.chain_heads()
    _run(capsys, "incidents", "export", "--format", "json", "--db", db)
    store = open_store(db)
    try:
        assert [e["action"] for e in store.access_entries()] == ["exported"]
        assert store.chain_heads() == heads  # reading never moves the heads
    finally:
        store.close()


def test_list_pages_with_a_limit_and_says_how_many_match(db_url, capsys):
    rig = Rig(db_url)
    ids = []
    for k in range(5):
        rig.feed(100.0 * k, 100.0 * k + 2)
        iid = rig.store.open_incident("s1", 100.0 * k + 2, by="w")
        rig.store.close_incident(iid, 100.0 * k + 5, "responsive", by="w")
        ids.append(iid)
    rig.close()
    code, out, err = _run(capsys, "incidents", "list", "--limit", "2", "--db", db_url)
    assert code == 0 and [i for i in ids if i in out] == ids[3:]
    assert "showing 1-2 of 5 incidents; next page: --offset 2" in err
    code, out, err = _run(capsys, "incidents", "list", "--limit", "2", "--offset", "4",
                          "--format", "json", "--db", db_url)
    assert [r["id"] for r in json.loads(out)] == [ids[0]] and "showing 5-5 of 5" in err
    code, _, err = _run(capsys, "incidents", "list", "--limit", "0", "--db", db_url)
    assert code == 2 and "argument --limit: must be at least 1 (not 0)" in err
    code, out, err = _run(capsys, "incidents", "list", "--db", db_url)
    assert all(i in out for i in ids) and err == ""  # all fit in the default page


def test_show_has_the_alarm_log_of_its_period_and_verify_prints_the_heads(filled, capsys):
    db, a, _, _ = filled
    code, out, _ = _run(capsys, "incidents", "show", a, "--db", db)
    assert code == 0 and "alarm log" in out and "spo2_low raised (high)" in out
    code, out, _ = _run(capsys, "incidents", "show", a, "--format", "json", "--db", db)
    assert [(h["condition"], h["state"]) for h in json.loads(out)["alarm_history"]] == [
        ("spo2_low", "raised")]
    code, out, _ = _run(capsys, "incidents", "verify", "--db", db)
    assert code == 0 and "chain heads" in out and "incident  #" in out
    code, out, _ = _run(capsys, "incidents", "verify", "--help")
    assert "cannot detect" in out and "rewrites the whole database" in out


def test_settings_are_kept_in_the_store_and_audited(db_url, capsys):
    Rig(db_url).close()
    code, out, _ = _run(capsys, "incidents", "settings", "--db", db_url)
    assert code == 0 and "retention-days   30" in out and "quiet-close-min  10" in out
    code, out, _ = _run(capsys, "incidents", "settings", "--retention-days", "7",
                        "--quiet-close-min", "5", "--by", "supervisor S", "--db", db_url)
    assert code == 0 and "retention-days   7" in out
    code, _, err = _run(capsys, "incidents", "settings", "--retention-days", "0",
                        "--db", db_url)
    assert code == 2 and "--retention-days" in err and "from 1 to 3650" in err
    rig = Rig(db_url)  # the next monitoring run follows them
    try:
        assert rig.store.retention_days == 7 and rig.store.quiet_s == 300
        changed = [e for e in rig.store.audit_entries() if e["action"] == "settings_changed"]
        assert changed[0]["actor"] == "supervisor S"
        assert changed[0]["detail"]["retention_days"] == {"from": 30.0, "to": 7.0}
    finally:
        rig.close()


def test_an_export_over_a_shared_file_makes_it_private(filled, capsys, tmp_path):
    db, *_ = filled
    out_file = tmp_path / "old.csv"
    out_file.write_text("someone's old file\n")
    out_file.chmod(0o644)
    code, _, _ = _run(capsys, "incidents", "export", "--db", db, "--output", str(out_file))
    assert code == 0 and stat.S_IMODE(out_file.stat().st_mode) == 0o600
