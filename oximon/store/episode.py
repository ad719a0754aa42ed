"""The episode rule, as pure functions of plain values and a time (no database, no clock).

One incident per episode per station: a high, non-technical alarm "raised" opens an
incident unless the station already has one open; every alarm while it is open joins it,
so a flapping alarm never makes a duplicate. The incident stays open until a person closes
it, or until no high alarm has been active and no person has acted on it (action,
acknowledgment) for `quiet_s`, when oximon closes it (outcome "not_recorded").

Kept apart from the store so the rule can be read in one place and tested on hand-made
inputs; the store only keeps an `Episode` per open incident and asks these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

Decision = Literal["open", "join", "ignore"]


@dataclass(frozen=True)
class Episode:
    """What the quiet-close rule needs to know about one open incident."""

    active_high: frozenset[str] = field(default_factory=frozenset)  # high alarms now up
    last_clear_t: float | None = None  # when the last high alarm cleared (engine t)
    last_person_t: float | None = None  # a person's last action/acknowledgment (engine t)


def is_high(priority: object, technical: object) -> bool:
    """Only a high-priority alarm about a person (not a device fault) starts an episode."""
    return priority == "high" and not technical


def on_alarm_decision(state: str, high: bool, has_open: bool) -> Decision:
    """What an alarm at a station means for its incidents: "open" a new one, "join" the open
    one (every alarm while it is open, whatever its priority), or "ignore" it."""
    if has_open:
        return "join"
    if state == "raised" and high:
        return "open"
    return "ignore"


def after_alarm(ep: Episode, state: str, condition: str, high: bool, t: float) -> Episode:
    """The episode after an alarm that joined it changed state at `t`."""
    if state == "acknowledged":  # a person is on it
        ep = replace(ep, last_person_t=t)
    if high and state in ("raised", "escalated"):
        return replace(ep, active_high=ep.active_high | {condition}, last_clear_t=None)
    if state == "cleared":
        active = ep.active_high - {condition}
        return replace(ep, active_high=active,
                       last_clear_t=t if not active else ep.last_clear_t)
    return ep


def after_action(ep: Episode, t: float) -> Episode:
    """A person recorded an action at `t` (an action entered late never moves time back)."""
    last = ep.last_person_t if ep.last_person_t is not None else -math.inf
    return replace(ep, last_person_t=max(t, last))


def quiet_close_t(ep: Episode, now: float, quiet_s: float) -> float | None:
    """When oximon closes the incident if it is due by `now`: `quiet_s` after the later of
    the last high alarm clearing and a person's last action. None while it is not due (a
    high alarm is up, none has cleared yet, or the quiet time has not passed)."""
    if ep.active_high or ep.last_clear_t is None:
        return None
    last_person = ep.last_person_t if ep.last_person_t is not None else -math.inf
    quiet_from = max(ep.last_clear_t, last_person)
    if now - quiet_from >= quiet_s:
        return quiet_from + quiet_s
    return None
