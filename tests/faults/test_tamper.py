"""Failure 8 (issue 14): tamper evidence that costs more to defeat than a few SQL edits.

Each case is the edit an insider with write access would make (sqlite3 / SQL), then
`oximon incidents verify`: deleting the newest records and pointing the heads and every
session's copy at the last survivors is caught by an anchor kept outside the database
(`--against`); a sign-off made after monitoring stopped is anchored; trace rows added to
an open incident after its last seal are caught; reads never move the chain heads; a
failed export is not recorded as done."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from oximon.cli import main
from oximon.store import open_store
from tests.store.storerig import Rig


def _sql(url: str, *statements: str) -> list[tuple]:
    eng = create_engine(url if "://" in url else f"sqlite:///{url}")
    out: list[tuple] = []
    with eng.begin() as conn:
        for st in statements:
            res = conn.execute(text(st))
            if res.returns_rows:
                out = [tuple(r) for r in res]
    eng.dispose()
    return out


def _verify(capsys, url: str, *extra: str) -> tuple[int, str]:
    code = main(["incidents", "verify", "--db", url, *extra])
    got = capsys.readouterr()
    return code, got.out + got.err


def _monitored(url: str) -> str:
    rig = Rig(url)
    rig.feed(0, 20, spo2=95)
    rig.alarm("raised", 20)
    iid = rig.open_id()
    rig.feed(20, 40, spo2=82)
    rig.store.record_action(iid, "naloxone", 30, "w", {"dose": "1 mL"})
    rig.store.close_incident(iid, 40, "responsive", by="w")
    rig.close()
    return iid


def _rewind_everything(url: str, keep_events: int, keep_audit: int) -> None:
    """Delete the newest incident events and audit rows; point the heads and EVERY
    session's anchor at the last surviving hashes: nothing inside the database remains
    that remembers them."""
    ev = _sql(url, f"select hash from incident_events where seq = {keep_events}")[0][0]
    au = _sql(url, f"select hash from audit_log where seq = {keep_audit}")[0][0]
    al = _sql(url, "select last_seq, last_hash from chain_head where id = 3")[0]
    anchor = json.dumps({"1": [keep_events, ev], "2": [keep_audit, au], "3": list(al)})
    _sql(url, f"delete from incident_events where seq > {keep_events}",
         f"delete from audit_log where seq > {keep_audit}",
         f"update chain_head set last_seq = {keep_events}, last_hash = '{ev}' where id = 1",
         f"update chain_head set last_seq = {keep_audit}, last_hash = '{au}' where id = 2",
         f"update sessions set anchor = '{anchor}'")


def test_a_full_rewind_passes_verify_alone_but_not_against_the_kept_anchor(db_url, capsys,
                                                                          tmp_path):
    _monitored(db_url)
    rig = Rig(db_url)  # a second incident: the one the insider wants gone
    b = rig.store.open_incident("s2", 100, by="worker")
    rig.store.close_incident(b, 160, "transported", by="worker")
    rig.close()
    anchor = tmp_path / "anchor.json"
    code, out = _verify(capsys, db_url, "--save-anchor", str(anchor))
    assert code == 0 and anchor.exists(), out
    n_events = _sql(db_url, "select max(seq) from incident_events")[0][0]
    n_audit = _sql(db_url, "select max(seq) from audit_log")[0][0]
    first_b = _sql(db_url, f"select min(seq) from incident_events where incident_id = '{b}'")
    first_b_audit = _sql(db_url, "select min(seq) from audit_log where action = "
                         f"'incident_opened' and target = '{b}'")
    _sql(db_url, f"delete from incidents where id = '{b}'",
         f"delete from incident_trace where incident_id = '{b}'")
    _rewind_everything(db_url, first_b[0][0] - 1, first_b_audit[0][0] - 1)
    # What no check inside the database can see (said in verify --help) ...
    code, out = _verify(capsys, db_url)
    assert code == 0, out
    # ... the anchor kept outside it does.
    code, out = _verify(capsys, db_url, "--against", str(anchor))
    assert code == 1
    assert f"incident record #{n_events} is missing: the anchor kept outside" in out
    assert f"audit record #{n_audit} is missing" in out
    # A changed anchor file is refused, not trusted.
    kept = json.loads(anchor.read_text())
    kept["chains"]["incident"]["seq"] = 1
    anchor.write_text(json.dumps(kept))
    code, out = _verify(capsys, db_url, "--against", str(anchor))
    assert code == 2 and "was changed since it was made" in out


def test_a_rewritten_record_is_caught_by_the_anchor(db_url, capsys, tmp_path):
    _monitored(db_url)
    anchor = tmp_path / "anchor.json"
    assert _verify(capsys, db_url, "--save-anchor", str(anchor))[0] == 0
    seq = _sql(db_url, "select max(seq) from incident_events")[0][0]
    _sql(db_url, f"update incident_events set hash = '{'f' * 64}' where seq = {seq}")
    code, out = _verify(capsys, db_url, "--against", str(anchor))
    assert code == 1 and f"incident record #{seq} is not the one the anchor" in out


def test_a_sign_off_after_monitoring_stopped_is_anchored(db_url, capsys):
    iid = _monitored(db_url)
    with open_store(db_url) as reader:  # `review` / the incidents CLI: no monitoring run
        reader.sign_off(iid, "supervisor", note="reviewed")
    assert _verify(capsys, db_url)[0] == 0
    # Remove the sign-off and its audit entry, rewind the heads (not the anchors).
    seq = _sql(db_url, "select max(seq) from incident_events")[0][0]
    aseq = _sql(db_url, "select max(seq) from audit_log")[0][0]
    prev = _sql(db_url, f"select hash from incident_events where seq = {seq - 1}")[0][0]
    aprev = _sql(db_url, f"select hash from audit_log where seq = {aseq - 1}")[0][0]
    _sql(db_url, f"delete from incident_events where seq = {seq}",
         f"delete from audit_log where seq = {aseq}",
         f"update chain_head set last_seq = {seq - 1}, last_hash = '{prev}' where id = 1",
         f"update chain_head set last_seq = {aseq - 1}, last_hash = '{aprev}' where id = 2",
         "update incidents set reviewed = false, reviewed_by = null, reviewed_ts = null")
    code, out = _verify(capsys, db_url)
    assert code == 1 and f"saw the chain reach #{seq}" in out, out


def test_rows_added_to_an_open_trace_after_its_last_seal_are_caught(db_url, capsys):
    rig = Rig(db_url, resume_gap_s=600)  # a stop leaves the incident open for a resume
    rig.feed(0, 20, spo2=95)
    rig.alarm("raised", 20)
    iid = rig.open_id()
    rig.feed(20, 40, spo2=82)
    rig.close()
    assert _sql(db_url, f"select status from incidents where id = '{iid}'") == [("open",)]
    assert _verify(capsys, db_url)[0] == 0
    last = _sql(db_url, f"select max(ts) from incident_trace where incident_id = '{iid}'")[0][0]
    _sql(db_url, "insert into incident_trace (incident_id, ts, spo2, pr, pi, flags) values "
         f"('{iid}', {last + 1}, 99, 70, null, 0)")
    code, out = _verify(capsys, db_url)
    assert code == 1 and "1 SpO2/pulse trace row(s) after its last seal" in out, out


def test_reads_do_not_move_the_heads_and_a_failed_export_is_not_done(db_url, capsys,
                                                                      tmp_path):
    iid = _monitored(db_url)
    with open_store(db_url) as store:
        heads = store.chain_heads()
    assert main(["incidents", "show", iid, "--db", db_url]) == 0
    assert main(["incidents", "export", "--db", db_url, "--output",
                 str(tmp_path / "no" / "such" / "x.csv")]) == 2
    capsys.readouterr()
    with open_store(db_url) as store:
        assert store.chain_heads() == heads
        assert [e["action"] for e in store.access_entries()] == ["viewed", "export_failed"]
