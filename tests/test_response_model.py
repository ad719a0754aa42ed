"""The response record's rules without Qt (oximon.response): what a tap records, undo as
a void, naloxone and the second-dose timer, responders, closing and discarding."""

from __future__ import annotations

import subprocess
import sys

import pytest

from oximon.response import (
    CPR,
    NALOXONE_WAIT_S,
    RESCUE,
    UNDO_S,
    Responders,
    ResponseRecord,
    SignUndo,
    action_words,
)
from oximon.vocabulary import ACTIONS, OPENED_IN_ERROR, OUTCOMES, SIGNS
from tests.ui_fakes import FakeIncidentLog


def record(log: FakeIncidentLog | None = None, warnings: list[str] | None = None):
    log = log or FakeIncidentLog()
    iid = log.open_incident("s1", 0.0)
    got = warnings if warnings is not None else []
    return log, ResponseRecord(log, iid, 0.0, Responders("peer worker"), warn=got.append)


def test_the_model_needs_no_qt() -> None:
    code = ("import sys, oximon.response, oximon.vocabulary, oximon.time_below; "
            "sys.exit(any(m.startswith('PySide6') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_tap_records_its_word_time_and_who() -> None:
    log, rec = record()
    i = rec.tap("airway", 5.0, "JD")
    assert rec.entries[i] == (5.0, "airway", {}) and rec.marks[i] == "A"
    assert log.actions() == [("airway", 5.0, {})]
    assert rec.who(i) == "JD" and rec.responders.last == "JD"
    assert {a for _, a, _ in rec.entries} <= ACTIONS


def test_toggles_start_and_stop_and_the_pacer_runs_while_breathing() -> None:
    _, rec = record()
    rec.tap_toggle(RESCUE, 10.0, "")
    assert rec.toggle_label(RESCUE) == RESCUE.off_label
    assert rec.pacer_text(10.5) == "● BREATHE NOW ●"
    assert rec.pacer_text(12.0) == "next breath in 3 s"
    rec.tap_toggle(RESCUE, 20.0, "")
    assert [a for _, a, _ in rec.entries] == ["rescue_breaths_started", "rescue_breaths_stopped"]
    assert rec.pacer_text(21.0) == "" and rec.running_toggles() == []


def test_naloxone_dose_route_and_the_second_dose_timer() -> None:
    log, rec = record()
    rec.tap_naloxone("IN", 0, 30.0, "")
    assert log.actions() == [("naloxone", 30.0, {"dose": 1, "amount_mg": 4.0, "route": "IN"})]
    words, due = rec.naloxone_text(90.0)
    assert not due and "second-dose check in 4:00" in words
    words, due = rec.naloxone_text(30.0 + NALOXONE_WAIT_S)
    assert due and "Give dose 2" in words
    rec.tap_naloxone("IM", 1, 400.0, "")
    assert rec.entries[-1][2] == {"dose": 2, "amount_mg": 0.8, "amount_ml": 2.0, "route": "IM"}
    assert rec.naloxone_label() == "Naloxone dose 3"
    assert action_words("naloxone", rec.entries[-1][2]) == "naloxone dose 2 (0.8 mg IM)"


def test_undo_within_10_s_is_a_void_and_puts_the_state_back() -> None:
    log, rec = record()
    rec.tap_naloxone("IM", 0, 50.0, "")
    assert rec.undoable(55.0) == ("naloxone dose 1 (0.4 mg IM)", 5.0)
    undone = rec.undo(55.0, "JD")
    assert undone is not None and undone.how == "naloxone" and rec.naloxone_doses == []
    assert rec.voided == {0} and len(rec.entries) == 1  # kept, struck out
    assert log.calls[-1][:4] == ("void", "inc-1", "naloxone", 50.0)
    assert rec.undo(56.0, "JD") is None  # only the last tap, once


def test_undo_expires_after_10_s() -> None:
    _, rec = record()
    rec.tap("stimulated", 0.0, "")
    assert rec.undoable(UNDO_S + 0.1) is None and rec.undo(UNDO_S + 0.1, "") is None


def test_undoing_a_toggle_or_a_sign() -> None:
    _, rec = record()
    rec.tap_toggle(CPR, 1.0, "")
    undone = rec.undo(2.0, "")
    assert undone is not None and rec.toggles[CPR.key] is None
    rec.tap_sign("tiny_pupils", True, 3.0, "")
    undone = rec.undo(4.0, "")
    assert undone is not None and undone.how == SignUndo("tiny_pupils", True)
    assert "tiny_pupils" in SIGNS


def test_a_failing_log_keeps_the_entry_and_warns() -> None:
    log = FakeIncidentLog(fail_actions=True)
    warnings: list[str] = []
    _, rec = record(log, warnings)
    rec.tap("911_called", 3.0, "")
    assert rec.entries and "Could not save '911_called'" in warnings[0]


def test_close_needs_an_outcome_and_records_who_responded() -> None:
    log, rec = record()
    rec.tap("airway", 1.0, "AB")
    assert not rec.close(5.0, [], [], "", "AB") and not rec.done
    assert rec.close(5.0, ["responsive", "transported"], ["advised_no_use_2h"], "ok", "AB")
    assert rec.done
    assert ("close", "inc-1", 5.0, "responsive,transported", ["advised_no_use_2h"], "ok") \
        in log.calls
    assert log.calls[-1] == ("details", "inc-1", "AB",
                             {"responders": ["AB"], "completed_by": "AB"})
    assert set(OUTCOMES) >= {"responsive", "transported"}


def test_discard_is_opened_in_error_with_a_note() -> None:
    log, rec = record()
    assert "stay in it" not in rec.discard_question()
    rec.tap("airway", 1.0, "")
    assert "The 1 action(s) recorded stay in it." in rec.discard_question()
    assert rec.discard(2.0, "", "")
    assert log.calls[-2][3] == OPENED_IN_ERROR and log.calls[-2][5] == "opened by mistake"


class RefusingLog(FakeIncidentLog):
    def close_incident(self, *args, **kwargs) -> None:
        raise ValueError("already closed")


@pytest.mark.parametrize("closed_by_system", [False, True])
def test_a_record_oximon_closed_is_completed_by_amendment(closed_by_system: bool) -> None:
    warnings: list[str] = []
    log, rec = record(RefusingLog(), warnings)
    if closed_by_system:
        rec.closed_by_system_t = 600.0
    ok = rec.close(700.0, ["responsive"], [], "late", "JD")
    assert ok is closed_by_system and rec.done is closed_by_system
    amends = [c for c in log.calls if c[0] == "amend"]
    if closed_by_system:
        assert amends == [("amend", "inc-1", {"outcome": ["responsive"], "aftercare": [],
                                              "note": "late"},
                           "entered on the dashboard after oximon closed the record", "JD")]
    else:
        assert not amends and "Could not close the record" in warnings[0]


def test_responders_are_remembered_for_the_shift() -> None:
    team = Responders("")
    assert team.names == ["peer worker"]
    assert team.use("  J   D ") == "J D" and team.use("") == "J D"
    assert team.names == ["peer worker", "J D"]


def test_closing_with_a_high_alarm_or_a_low_reading_is_asked_about_first():
    from oximon.response import close_question

    assert close_question(False, 96.0) == ""
    assert close_question(False, None) == ""  # no reading: nothing to go on
    assert "high alarm" in close_question(True, 95.0)
    low = close_question(False, 80.0)
    assert "80 %" in low and "below 90 %" in low
    both = close_question(True, 84.0, low=88.0)
    assert "high alarm" in both and "84 %" in both and "below 88 %" in both
    assert close_question(False, 89.6, low=90.0) != ""
