"""Supervisor review flows with pytest-qt on a real (SQLite) store filled by the simulator:
log in, filter, open, replay, sign off, amend, PDF; lock by inactivity; a wrong password is
refused and never written anywhere in clear."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from oximon.cli.simulate import simulate_month
from oximon.review import figures
from oximon.review_store import StoreReview
from oximon.store import open_store
from oximon.supervisor import PasswordFile, PermissionDenied, SupervisorSession
from tests.pdftext import pdf_text
from ui.review.window import ReviewWindow

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
    window.browser.since.setDate(date(2026, 3, 1))
    window.show()
    qtbot.waitExposed(window)
    yield window, backend, session, clock, store
    window.lock_timer.stop()
    store.close()


def login(window, password: str, who: str = "sup-1") -> object:
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
    assert nadirs == sorted(nadirs)

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
    assert detail.plot.cursor.value() == pytest.approx(min(lo + 300, hi))
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

    # back to the list: the row now shows it signed off
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
