"""Supervisor review flows with pytest-qt on a real (SQLite) store filled by the simulator:
log in, filter, open, replay, sign off, amend, PDF; lock by inactivity; a wrong password is
refused and never written anywhere in clear."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from oximon.cli.simulate import simulate_month
from oximon.clock import ManualClock
from oximon.review import figures
from oximon.review_store import StoreReview
from oximon.store import open_store
from oximon.supervisor import PasswordFile, PermissionDenied, SupervisorSession
from oximon.ui.qtdates import to_qdate
from oximon.ui.review.login import LoginDialog
from oximon.ui.review.window import ReviewWindow
from tests.eventkit import alarm_event
from tests.pdftext import pdf_text

PASSWORD = "correct-horse-9"


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    simulate_month(url, 2026, 3, incidents=6, seed=11, review_share=0.34)
    return url


@pytest.fixture
def rig(qtbot, db, tmp_path):
    store = open_store(db)
    backend = StoreReview(store)
    clock = FakeClock()
    session = SupervisorSession(PasswordFile(tmp_path / "cfg" / "supervisor.json"),
                                clock=clock, lock_after_s=300, audit=backend.audit,
                                kdf_n=2**10)
    window = ReviewWindow(backend, session, today=date(2026, 3, 31))
    qtbot.addWidget(window)
    window.browser.since.setDate(to_qdate(date(2026, 3, 1)))
    window.show()
    qtbot.waitExposed(window)
    yield window, backend, session, clock, store
    window.lock_timer.stop()
    store.close()


def login(window: ReviewWindow, password: str, who: str = "sup-1") -> LoginDialog:
    dialog = window.login_dialog()
    dialog.who.setText(who)
    dialog.password.setText(password)
    dialog.repeat.setText(password)
    dialog.try_accept()
    return dialog


def test_login_filter_open_sign_off_amend(qtbot, rig, tmp_path):
    window, backend, session, _clock, store = rig
    browser = window.browser
    all_ids = browser.row_ids()
    assert len(all_ids) == 6
    assert "Peer view" in window.lock_bar.text()
    assert not window.report_button.isEnabled()

    # log in (first use sets the password)
    dialog = login(window, PASSWORD)
    assert dialog.result() == dialog.DialogCode.Accepted.value
    assert session.unlocked and "Supervisor mode (sup-1)" in window.lock_bar.text()
    assert window.report_button.isEnabled()

    # filter: naloxone given / not, reviewed or not, station, search
    incidents = {i.id: i for i in backend.list_incidents(browser.current_filter())}
    browser.naloxone.setCurrentIndex(browser.naloxone.findText("Yes"))
    with_dose = browser.row_ids()
    assert with_dose and all(incidents[i].naloxone_ts for i in with_dose)
    browser.naloxone.setCurrentIndex(browser.naloxone.findText("No"))
    assert set(browser.row_ids()) == set(all_ids) - set(with_dose)
    browser.naloxone.setCurrentIndex(0)
    browser.reviewed.setCurrentIndex(browser.reviewed.findText("Not reviewed"))
    unreviewed = browser.row_ids()
    assert unreviewed and all(not incidents[i].reviewed for i in unreviewed)
    one = incidents[unreviewed[0]]
    browser.station.setCurrentIndex(browser.station.findData(one.station))
    assert set(browser.row_ids()) == {i for i in unreviewed
                                      if incidents[i].station == one.station}
    browser.station.setCurrentIndex(0)
    noted = {i.id for i in incidents.values()
             if "second responder" in i.note.lower() and not i.reviewed}
    assert noted and noted != set(unreviewed)  # the search has something to tell apart
    qtbot.keyClicks(browser.search, "Second RESPONDER")
    qtbot.waitUntil(lambda: set(browser.row_ids()) == noted, timeout=2000)
    browser.search.clear()
    qtbot.waitUntil(lambda: browser.row_ids() == unreviewed, timeout=2000)

    # sort by lowest SpO2, ascending
    browser.table.sortItems(3, Qt.SortOrder.AscendingOrder)
    nadirs = [figures(incidents[i]).nadir for i in browser.row_ids()]
    assert nadirs == sorted(nadirs, key=lambda n: -1.0 if n is None else n)  # blanks first

    # open the first row
    target = browser.row_ids()[0]
    rect = browser.table.visualItemRect(browser.table.item(0, 1))
    # a real double click is press, release, then the double-click event
    qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    detail = window.detail
    assert window.stack.currentWidget() is detail
    assert target in detail.header.text()
    kinds = {k for k, _x, _w in detail.plot.marker_positions}
    assert {"alarm", "acknowledged", "action"} <= kinds
    f = figures(backend.get_incident(target))
    assert detail.figure_values["Alarm → acknowledge"].endswith("s")
    assert detail.figure_values["Naloxone doses"] == str(f.naloxone_doses)

    # replay: the cursor walks the trace and the readout follows
    lo, hi = detail.plot.span
    detail.replay_step(300)
    assert detail.plot.cursor_line.value() == pytest.approx(min(lo + 300, hi))
    assert "SpO₂" in detail.readout.text() or "no reading" in detail.readout.text()

    # sign off with a note and the debrief flag
    detail.tabs.setCurrentIndex(3)
    assert detail.sign_button.isEnabled()
    detail.sign_note.setPlainText("Quick, calm response.")
    detail.debrief.setChecked(True)
    qtbot.mouseClick(detail.sign_button, Qt.MouseButton.LeftButton)
    signed = backend.get_incident(target)
    assert signed.sign_off is not None and signed.sign_off.debrief
    assert signed.sign_off.by == "sup-1" and signed.sign_off.note == "Quick, calm response."
    assert not detail.sign_button.isEnabled()  # one sign-off
    assert "Signed off by sup-1" in detail.sign_status.text()

    # lock; as a peer: no sign-off, but an amendment is allowed
    session.lock()
    assert "Peer view" in window.lock_bar.text()
    with pytest.raises(PermissionDenied):
        detail.sign_off("x", False)
    detail.amend_field.setCurrentIndex(detail.amend_field.findData("note"))
    detail.amend_text.setText("Second responder was peer-C.")
    detail.amend_reason.setText("left out in the rush")
    detail.amend_by.setText("peer-C")
    qtbot.mouseClick(detail.amend_button, Qt.MouseButton.LeftButton)
    assert detail.amend_message.text() == "Amendment added."
    amended = backend.get_incident(target)
    assert amended.amendments[-1].by == "peer-C"
    assert amended.amendments[-1].changes == {"note": "Second responder was peer-C."}
    assert "Second responder was peer-C." in amended.note
    assert detail.amend_table.rowCount() == len(amended.amendments)
    # an outcome correction goes through the word list
    before_outcome = backend.get_incident(target).outcome_words or "(none)"
    detail.amend_field.setCurrentIndex(detail.amend_field.findData("outcome"))
    for r in range(detail.amend_words.count()):
        item = detail.amend_words.item(r)
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                           == "transported" else Qt.CheckState.Unchecked)
    detail.amend_reason.setText("EHS took them to hospital")
    qtbot.mouseClick(detail.amend_button, Qt.MouseButton.LeftButton)
    assert backend.get_incident(target).outcome == ("transported",)
    # the store's chain still verifies after all of it
    assert store.verify()[2] == []

    # print one incident to PDF
    out = tmp_path / "incident.pdf"
    detail.save_pdf(out)
    text = pdf_text(out)
    assert f"Incident {target}" in text and "Lowest SpO" in text
    assert "Signed off by sup-1" in text and "peer-C" in text
    assert out.stat().st_mode & 0o777 == 0o600
    # amended after the sign-off: the original value stays visible, a new review is due
    assert "Amended after sign-off — needs review again" in text
    assert f"outcome: {before_outcome} → transported" in text
    assert "needs review again" in detail.header.text()
    assert "Amended after sign-off" in detail.sign_status.text()

    # back to the list: it is waiting for a review again
    detail.back.click()
    browser.reviewed.setCurrentIndex(browser.reviewed.findText("Not reviewed"))
    assert target in browser.row_ids()
    # a supervisor reviews the amendments and signs off again
    login(window, PASSWORD)
    window.open_incident(target)
    assert detail.sign_button.isEnabled()
    detail.sign_off("amendments checked", False)
    again = backend.get_incident(target)
    assert again.reviewed and len(again.sign_offs) == 2
    detail.back.click()
    browser.reviewed.setCurrentIndex(browser.reviewed.findText("Reviewed"))
    assert target in browser.row_ids()


def test_supervisor_mode_locks_after_inactivity(qtbot, rig):
    window, _backend, session, clock, _store = rig
    login(window, PASSWORD)
    window.open_incident(window.browser.row_ids()[0])
    assert session.unlocked
    clock.t += 200
    qtbot.mouseClick(window.detail.tabs, Qt.MouseButton.LeftButton)  # activity in the window
    clock.t += 200
    window.refresh_lock()
    assert session.unlocked  # 200 s since the click, not 400 s since the login
    clock.t += 100
    window.refresh_lock()
    assert not session.unlocked
    assert "Peer view" in window.lock_bar.text()
    assert not window.detail.sign_button.isEnabled()
    assert not window.report_button.isEnabled()


def test_wrong_password_refused_and_never_logged_in_clear(qtbot, rig, caplog, tmp_path, db):
    window, _backend, session, _clock, store = rig
    login(window, PASSWORD)
    session.lock()
    attempt = "correct-horse-8-typo"
    with caplog.at_level(logging.DEBUG):
        dialog = login(window, attempt, who="someone")
    assert dialog.result() != dialog.DialogCode.Accepted.value
    assert dialog.message.text() == "Wrong password."
    assert dialog.password.text() == ""  # not left in the field either
    assert not session.unlocked
    audit = store.audit_entries()
    refused = [a for a in audit if a["action"] == "supervisor.unlock_refused"]
    assert len(refused) == 1 and refused[0]["actor"] == "someone"
    store.close()
    raw = b"".join(p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file())
    for secret in (attempt, PASSWORD):
        assert secret not in caplog.text
        assert secret not in repr(audit)
        assert secret.encode() not in raw  # database, its WAL, the password file


def test_the_browser_pages_and_filters_not_recorded_outcomes(qtbot, rig, monkeypatch):
    import oximon.ui.review.browser as browser_module

    window, backend, _session, _clock, store = rig
    quiet = open_store(store.target.label, writer=True, quiet_s=60, clock=ManualClock(
        epoch=datetime(2026, 3, 20, 12, tzinfo=UTC)))  # closed by oximon: none recorded
    for state, t in (("raised", 1.0), ("cleared", 2.0)):
        quiet.on_event(alarm_event(state, t, "s9", "spo2_low", raised_t=1.0))
    quiet.tick(100.0)
    quiet.close()
    browser = window.browser
    browser.refresh()
    everything = browser.row_ids()
    monkeypatch.setattr(browser_module, "PAGE_SIZE", 4)
    browser.show_page(0)
    first = browser.row_ids()
    assert len(first) == 4 and "showing 1–4 of 7" in browser.count.text()
    assert browser.next.isEnabled() and not browser.previous.isEnabled()
    browser.next.click()
    second = browser.row_ids()
    assert len(second) == 3 and set(first) | set(second) == set(everything)
    assert not browser.next.isEnabled() and browser.previous.isEnabled()
    browser.outcome.setCurrentIndex(browser.outcome.findData("not_recorded"))
    assert browser.page == 0  # a new filter starts at the first page
    expect = {i.id for i in (backend.get_incident(x) for x in everything)
              if not i.outcome or "not_recorded" in i.outcome}
    assert expect and set(browser.row_ids()) == expect


def test_a_missed_action_typed_after_midnight_lands_on_the_next_day():
    from datetime import datetime, time, timedelta

    from oximon.review import Incident
    from oximon.ui.review.detail import action_time

    opened = datetime(2026, 3, 14, 23, 50).astimezone().timestamp()
    inc = Incident("x", "s1", opened, closed_ts=opened + 1800)
    got = datetime.fromtimestamp(action_time(inc, time(0, 10)))
    assert got == datetime(2026, 3, 15, 0, 10)
    got = datetime.fromtimestamp(action_time(inc, time(23, 55)))
    assert got == datetime(2026, 3, 14, 23, 55)
    assert timedelta(0) < datetime(2026, 3, 15, 0, 10) - datetime(2026, 3, 14, 23, 55)
