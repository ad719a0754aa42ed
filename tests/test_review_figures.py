"""Incident figures, timeline and browser filters, checked against hand-worked numbers."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from oximon.review import (
    Action,
    AlarmSpan,
    Amendment,
    Incident,
    IncidentFilter,
    SignOff,
    Trace,
    apply_filter,
    duration_words,
    figures,
    time_below,
    timeline,
)

NAN = math.nan
T0 = 1_772_000_000.0


def trace(values: list[float], start: float = T0, step: float = 1.0) -> Trace:
    ts = tuple(start + i * step for i in range(len(values)))
    return Trace(ts, tuple(values), tuple(80.0 for _ in values))


def test_time_below_counts_valid_seconds_and_never_gaps():
    # 10 samples at 1 Hz: 3 below 90 (two of them below 85), a NaN gap, another below 90
    t = trace([95, 89, 84, 80, NAN, NAN, 88, 96, 97, 98])
    assert time_below(t, 90) == 4.0
    assert time_below(t, 85) == 2.0
    # a 30 s hole in the timestamps counts one usual step, not 30 s
    holey = Trace((T0, T0 + 1, T0 + 2, T0 + 32), (80, 80, 80, 99), (70,) * 4)
    assert time_below(holey, 90) == 3.0


def make_incident(**kw: Any) -> Incident:
    base = Incident(
        id="i1", station="st-1", alias="Booth 1", opened_ts=T0, reason="spo2_low",
        status="closed", closed_ts=T0 + 600, outcome=("responsive",),
        alarms=(
            AlarmSpan("spo2_drop", "medium", T0 - 20, T0 - 5),
            AlarmSpan("spo2_low", "high", T0, T0 + 12, T0 + 300, "peer"),
        ),
        actions=(
            Action(T0 + 5, "sign", details={"sign": "unresponsive"}),
            Action(T0 + 20, "stimulated"),
            Action(T0 + 60, "naloxone", details={"dose": "0.4 mg", "route": "IM"}),
            Action(T0 + 90, "911_called"),
            Action(T0 + 360, "naloxone", details={"dose": "0.4 mg", "route": "IM"}),
        ),
        trace=trace([97, 92, 88, 84, 79, 82, 86, 91, 95]),
    )
    return replace(base, **kw)


def test_figures_of_an_incident():
    f = figures(make_incident())
    assert f.nadir == 79 and f.nadir_ts == T0 + 4
    assert f.below90_s == 5 and f.below85_s == 3
    assert f.first_alarm_ts == T0  # the first *high* alarm, not the earlier medium one
    assert f.alarm_to_ack_s == 12
    assert f.alarm_to_first_action_s == 20  # "sign" is an observation, not a response
    assert f.alarm_to_naloxone_s == 60
    assert f.naloxone_doses == 2 and f.naloxone_intervals_s == (300.0,)
    assert f.duration_s == 600


def test_manual_incident_has_no_alarm_times():
    f = figures(make_incident(alarms=(), reason="manual"))
    assert f.alarm_to_ack_s is None and f.alarm_to_first_action_s is None
    assert f.naloxone_doses == 2


def test_timeline_is_in_time_order_with_everything():
    inc = make_incident(amendments=(Amendment(T0 + 900, "peer", "second dose was 0.4 mg"),),
                        sign_off=SignOff(T0 + 1000, "sup", "good response", debrief=True))
    kinds = [e.kind for e in timeline(inc)]
    assert kinds[0] == "alarm"  # the medium alarm came before the incident opened
    assert kinds[-2:] == ["amendment", "sign_off"]
    words = [e.words for e in timeline(inc)]
    assert "Naloxone (0.4 mg, IM)" in words
    assert any("debrief held" in w for w in words)
    ts = [e.ts for e in timeline(inc)]
    assert ts == sorted(ts)


@pytest.mark.parametrize(("flt", "ids"), [
    (IncidentFilter(), ["a", "b", "c"]),
    (IncidentFilter(station="st-2"), ["b"]),
    (IncidentFilter(naloxone=True), ["a", "c"]),
    (IncidentFilter(naloxone=False), ["b"]),
    (IncidentFilter(called_911=True), ["a"]),
    (IncidentFilter(reviewed=True), ["c"]),
    (IncidentFilter(reviewed=False), ["a", "b"]),
    (IncidentFilter(outcome="transported"), ["c"]),
    (IncidentFilter(since_ts=T0 + 3600), ["b", "c"]),
    (IncidentFilter(until_ts=T0 + 7200), ["a", "b"]),
    (IncidentFilter(search="FENTANYL smoked"), ["b"]),
    (IncidentFilter(search="re-sedation"), ["c"]),  # found in an amendment
])
def test_filters(flt, ids):
    a = make_incident(id="a")
    b = make_incident(id="b", station="st-2", opened_ts=T0 + 3600, actions=(),
                      note="Smoked fentanyl, came round with stimulation")
    c = make_incident(id="c", opened_ts=T0 + 7200, outcome=("transported",),
                      actions=(Action(T0 + 7300, "naloxone"),),
                      amendments=(Amendment(T0 + 8000, "peer", "watched for re-sedation"),),
                      sign_off=SignOff(T0 + 9000, "sup"))
    assert [i.id for i in apply_filter([a, b, c], flt)] == ids


def test_voided_actions_are_shown_but_not_counted_and_stored_figures_win():
    inc = make_incident(actions=(
        Action(T0 + 20, "stimulated", void=True),
        Action(T0 + 30, "naloxone", seq=7, void=True),
        Action(T0 + 40, "naloxone", amended=True),
    ), stored_nadir=77.0, stored_nadir_ts=T0 + 3, stored_below90_s=31.0)
    f = figures(inc)
    assert f.naloxone_doses == 1 and f.alarm_to_first_action_s == 40
    assert (f.nadir, f.below90_s, f.below85_s) == (77.0, 31.0, 3.0)  # 85: from the trace
    words = [e.words for e in timeline(inc)]
    assert "Naloxone [voided by amendment]" in words
    assert "Naloxone [added by amendment]" in words


def test_amendment_words():
    m = Amendment(T0, "sup", "typo at the time", {"outcome": ["breathing_on_own"],
                                                 "note": "came round"},
                  was={"outcome": ["transported"], "note": ""})
    assert m.text == ("outcome: transported → breathing on own; note: (none) → came round "
                      "— typo at the time")


def test_duration_words():
    assert duration_words(None) == "—"
    assert duration_words(42.4) == "42 s"
    assert duration_words(125) == "2 min 05 s"
    assert duration_words(3 * 3600 + 60) == "3 h 01 min"
