"""The episode rule on hand-made values: no database, no clock, no store."""

from __future__ import annotations

from oximon.store.episode import (
    Episode,
    after_action,
    after_alarm,
    is_high,
    on_alarm_decision,
    quiet_close_t,
)

QUIET = 600.0


def test_only_a_high_alarm_about_a_person_is_high():
    assert is_high("high", False)
    assert not is_high("high", True)  # a device fault never starts an episode
    assert not is_high("medium", False)
    assert not is_high(None, None)


def test_a_raised_high_alarm_opens_an_incident_when_none_is_open():
    assert on_alarm_decision("raised", True, has_open=False) == "open"
    assert on_alarm_decision("escalated", True, has_open=False) == "ignore"
    assert on_alarm_decision("raised", False, has_open=False) == "ignore"
    assert on_alarm_decision("cleared", True, has_open=False) == "ignore"


def test_every_alarm_joins_the_open_incident_so_flapping_never_duplicates():
    for state in ("raised", "acknowledged", "escalated", "cleared"):
        for high in (True, False):
            assert on_alarm_decision(state, high, has_open=True) == "join"


def test_a_high_alarm_keeps_the_incident_open_until_it_clears():
    ep = after_alarm(Episode(), "raised", "spo2_low", True, 10.0)
    assert ep.active_high == {"spo2_low"} and ep.last_clear_t is None
    assert quiet_close_t(ep, 10_000.0, QUIET) is None
    ep = after_alarm(ep, "cleared", "spo2_low", True, 40.0)
    assert ep.active_high == frozenset() and ep.last_clear_t == 40.0
    assert quiet_close_t(ep, 40.0 + QUIET - 1, QUIET) is None
    assert quiet_close_t(ep, 40.0 + QUIET, QUIET) == 40.0 + QUIET
    assert quiet_close_t(ep, 5000.0, QUIET) == 40.0 + QUIET  # closes when it went quiet


def test_quiet_starts_only_when_the_last_high_alarm_clears():
    ep = Episode()
    for cond in ("spo2_low", "pr_low"):
        ep = after_alarm(ep, "raised", cond, True, 10.0)
    ep = after_alarm(ep, "cleared", "spo2_low", True, 20.0)
    assert ep.last_clear_t is None and quiet_close_t(ep, 9999.0, QUIET) is None
    ep = after_alarm(ep, "cleared", "pr_low", True, 30.0)
    assert quiet_close_t(ep, 30.0 + QUIET, QUIET) == 30.0 + QUIET


def test_a_new_high_alarm_restarts_the_episode():
    ep = after_alarm(Episode(last_clear_t=5.0), "escalated", "spo2_low", True, 50.0)
    assert ep.active_high == {"spo2_low"} and ep.last_clear_t is None


def test_a_lower_priority_alarm_neither_holds_nor_restarts_quiet():
    ep = Episode(last_clear_t=40.0)
    ep = after_alarm(ep, "raised", "pr_high", False, 60.0)
    assert ep == Episode(last_clear_t=40.0)
    assert quiet_close_t(ep, 40.0 + QUIET, QUIET) == 40.0 + QUIET


def test_a_person_acting_postpones_the_quiet_close():
    ep = Episode(last_clear_t=40.0)
    ep = after_action(ep, 300.0)
    assert quiet_close_t(ep, 40.0 + QUIET, QUIET) is None
    assert quiet_close_t(ep, 300.0 + QUIET, QUIET) == 300.0 + QUIET
    ep = after_action(ep, 100.0)  # an action entered late never moves time back
    assert ep.last_person_t == 300.0


def test_an_acknowledgment_counts_as_a_person_acting():
    ep = after_alarm(Episode(last_clear_t=40.0), "acknowledged", "spo2_low", True, 200.0)
    assert ep.last_person_t == 200.0
    assert quiet_close_t(ep, 200.0 + QUIET - 0.5, QUIET) is None


def test_an_incident_no_alarm_ever_cleared_is_never_closed_as_quiet():
    assert quiet_close_t(Episode(), 1e9, QUIET) is None
    assert quiet_close_t(Episode(last_person_t=0.0), 1e9, QUIET) is None
