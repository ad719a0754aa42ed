"""What a hub publishes about a booth, and how any screen reads it: pure data, no I/O.

A booth's published state is one JSON object (a row of `site_booths`, and the payload of
the notification that tells every screen it changed). Times inside it are *ages* in
seconds at the moment of publishing, never a computer's clock: screens on other computers
(and hubs running at `--speed`) have other clocks, and the database stamps the moment of
publishing with its own.

A booth is only as live as its hub: `booth_status` never returns the numbers of a booth
whose hub is not alive, and says instead that it is not monitored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from oximon.alarms import AlarmView
from oximon.types import DeviceState, Priority

HUB_SILENT_S = 5.0  # a hub silent longer than this is a high technical alarm on every screen
HUB_SILENT = "hub_silent"  # the condition of that alarm


@dataclass(frozen=True)
class RemoteAlarm:
    """One alarm of a booth as its hub's alarm manager holds it (ages in hub seconds).

    A booth has one vital-sign alarm (its conditions combined: `conditions`, `details`,
    its priority the highest of the episode) and maybe technical ones (a device fault);
    `condition` is the one the screen names first."""

    condition: str
    priority: Priority
    technical: bool
    message: str
    raised_age_s: float
    condition_active: bool
    value: float | None
    worst: float | None
    worst_seen: float | None
    acknowledged: bool
    acknowledged_by: str
    acknowledged_age_s: float | None
    escalated_age_s: float | None = None
    cleared_age_s: float | None = None  # since its condition ended (latched, or waiting)
    conditions: tuple[str, ...] = ()
    details: str = ""
    worse_since_ack: str = ""

    @property
    def escalated(self) -> bool:
        return self.escalated_age_s is not None

    @property
    def state(self) -> str:
        """As the alarm manager's own view names it (raised, latched, escalated...)."""
        return self.view("", 0.0).state

    @classmethod
    def of(cls, view: AlarmView, now: float) -> RemoteAlarm:
        def age(t: float | None) -> float | None:
            return None if t is None else round(now - t, 3)
        return cls(view.condition, view.priority, view.technical, view.message,
                   round(now - view.raised_t, 3), view.condition_active, view.value,
                   view.worst, view.worst_seen, view.acknowledged, view.acknowledged_by,
                   age(view.acknowledged_t), age(view.escalated_t),
                   age(view.condition_cleared_t), tuple(view.conditions), view.details,
                   view.worse_since_ack)

    def view(self, station: str, now: float) -> AlarmView:
        """The AlarmView a screen renders, its times moved onto the screen's clock `now`."""
        def at(age: float | None) -> float | None:
            return None if age is None else now - age
        return AlarmView(station, self.condition, self.priority, self.technical, self.message,
                         now - self.raised_age_s, self.condition_active,
                         None if self.condition_active else (at(self.cleared_age_s) or now),
                         self.value, self.worst,
                         None if not self.acknowledged else now - (self.acknowledged_age_s or 0),
                         self.acknowledged_by, at(self.escalated_age_s), self.worst_seen,
                         conditions=self.conditions, details=self.details,
                         worse_since_ack=self.worse_since_ack)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["priority"] = self.priority.label
        d["conditions"] = list(self.conditions)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RemoteAlarm:
        """Keys this version does not know are ignored (a hub of a newer version)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in names}
        values["priority"] = Priority[str(d["priority"]).upper()]
        values["conditions"] = tuple(d.get("conditions", ()))
        return cls(**values)


@dataclass(frozen=True)
class BoothState:
    """A booth as its hub published it. `seq` grows with each publication by the hub's
    run (`run` names the run), so a screen keeps the newest when rows and notifications
    arrive out of order."""

    booth: str
    hub: str
    run: str
    seq: int
    label: str
    device_state: DeviceState
    detail: str
    spo2: float | None
    pr: float | None
    since_valid_s: float | None  # seconds since the last valid reading (None: never)
    alarms: tuple[RemoteAlarm, ...] = ()
    sent_ts: float = 0.0  # the hub's wall clock when sent (the latency bench reads it)
    # the last responses logged for its open incident: (words, age in seconds), oldest first
    responses: tuple[tuple[str, float], ...] = ()

    def top_alarm(self) -> RemoteAlarm | None:
        return self.alarms[0] if self.alarms else None

    def to_dict(self) -> dict[str, Any]:
        return {"booth": self.booth, "hub": self.hub, "run": self.run, "seq": self.seq,
                "label": self.label, "device_state": self.device_state.value,
                "detail": self.detail, "spo2": self.spo2, "pr": self.pr,
                "since_valid_s": self.since_valid_s,
                "alarms": [a.to_dict() for a in self.alarms], "sent_ts": self.sent_ts,
                "responses": [{"words": w, "age_s": a} for w, a in self.responses]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BoothState:
        return cls(str(d["booth"]), str(d["hub"]), str(d["run"]), int(d["seq"]),
                   str(d["label"]), DeviceState(d["device_state"]), str(d.get("detail", "")),
                   d.get("spo2"), d.get("pr"), d.get("since_valid_s"),
                   tuple(RemoteAlarm.from_dict(a) for a in d.get("alarms", ())),
                   float(d.get("sent_ts", 0.0)),
                   tuple((str(r["words"]), float(r["age_s"])) for r in d.get("responses", ())))

    def newer_than(self, other: BoothState | None) -> bool:
        return other is None or self.run != other.run or self.seq > other.seq


def number(x: float) -> float | None:
    """A reading for JSON: None for NaN (no number is ever made up)."""
    return None if math.isnan(x) else round(float(x), 1)


@dataclass(frozen=True)
class HubStatus:
    """A hub as the database sees it: `age_s` since its last heartbeat (database clock),
    whether its connection still holds the hub's lock (a killed process loses it at
    once), and whether it stopped cleanly."""

    hub: str
    host: str
    age_s: float
    connected: bool
    stopped: bool
    paused_by: str = ""
    pause_left_s: float = 0.0
    resumed_by: str = ""  # who ended its last audio pause by hand

    @property
    def paused(self) -> bool:
        return self.alive and self.pause_left_s > 0

    @property
    def alive(self) -> bool:
        return self.connected and not self.stopped and self.age_s <= HUB_SILENT_S

    @property
    def why(self) -> str:
        """Why its booths are not monitored, in the alarm's words."""
        if self.stopped:
            return "stopped"
        return "silent"


@dataclass(frozen=True)
class BoothStatus:
    """One line of `oximon site status`: a configured booth as every screen must see it."""

    booth: str
    hub: str
    hub_alive: bool
    spo2: float | None
    pr: float | None
    age_s: float | None
    device_state: str
    alarm: dict[str, Any] | None  # DESIGN.md: {priority, condition, state, acknowledged_by}
    label: str = ""
    alarm_words: str = ""  # what the alarm says, for the human line
    responses: tuple[tuple[str, float], ...] = ()  # its open incident's last responses

    def to_json(self) -> dict[str, Any]:
        return {"booth": self.booth, "hub": self.hub, "hub_alive": self.hub_alive,
                "spo2": None if self.spo2 is None else round(self.spo2),
                "pr": None if self.pr is None else round(self.pr),
                "age_s": None if self.age_s is None else round(self.age_s, 1),
                "alarm": self.alarm,
                "responses": [{"words": w, "age_s": a} for w, a in self.responses]}


@dataclass
class SiteSnapshot:
    """What one screen knows of the site: the newest state of each booth, each hub's
    liveness, and the age (database clock) of each booth's row."""

    booths: dict[str, BoothState] = field(default_factory=dict)
    hubs: dict[str, HubStatus] = field(default_factory=dict)
    ages: dict[str, float] = field(default_factory=dict)


LAST_RESPONSE = " · last response: "


def with_last_response(view: AlarmView, words: str) -> AlarmView:
    """A booth's alarm as every screen shows it once a response was logged for it, on any
    screen: its own details, then "· last response: stimulated — Lee (at door-pc)"."""
    if view.technical or not words:
        return view
    base = (view.details or view.message).split(LAST_RESPONSE)[0]
    return replace(view, details=f"{base}{LAST_RESPONSE}{words}")


def hub_alarm_words(hub: str, labels: Sequence[str], why: str = "silent") -> str:
    """'Booths 5–8 not monitored — hub room-2 silent' (a run of numbers is shortened)."""
    return f"{booth_list(labels)} not monitored — hub {hub} {why}"


def booth_list(labels: Sequence[str]) -> str:
    nums = [label.split()[-1] if label.split() else label for label in labels]
    if len(labels) == 1:
        return labels[0]
    if all(n.isdigit() for n in nums) and all(label.split()[:-1] == labels[0].split()[:-1]
                                               for label in labels):
        values = sorted(int(n) for n in nums)
        word = " ".join(labels[0].split()[:-1]) or "Booth"
        if values == list(range(values[0], values[-1] + 1)):
            return f"{word}s {values[0]}–{values[-1]}"
        return f"{word}s " + ", ".join(str(v) for v in values)
    return ", ".join(labels)


def booth_status(booth: str, hub: str, state: BoothState | None, hub_status: HubStatus | None,
                 row_age_s: float | None, label: str = "") -> BoothStatus:
    """A configured booth's line: numbers only while its hub is alive and published them
    (never the last numbers of a silent hub); its hub's alarm when the hub is not alive."""
    alive = hub_status is not None and hub_status.alive and state is not None \
        and state.hub == hub
    label = label or (state.label if state else booth)
    if not alive:
        why = hub_status.why if hub_status is not None else "silent"
        return BoothStatus(booth, hub, False, None, None, row_age_s, DeviceState.LOST.value,
                           {"priority": Priority.HIGH.label, "condition": HUB_SILENT,
                            "state": "raised", "acknowledged_by": ""}, label,
                           hub_alarm_words(hub, [label], why))
    assert state is not None
    top = state.top_alarm()
    alarm = None if top is None else {
        "priority": top.priority.label, "condition": top.condition,
        "state": "acknowledged" if top.acknowledged else "raised",
        "acknowledged_by": top.acknowledged_by}
    words = "" if top is None else (top.details or top.message)
    return BoothStatus(booth, hub, True, state.spo2, state.pr, row_age_s,
                       state.device_state.value, alarm, label, words, state.responses)


def silent_hubs(config_hubs: dict[str, list[tuple[str, str]]],
                hubs: dict[str, HubStatus]) -> Iterable[tuple[str, str, list[str]]]:
    """(hub, why, booth labels) for every configured hub that is not alive."""
    for hub, booths in config_hubs.items():
        status = hubs.get(hub)
        if status is None or not status.alive:
            yield hub, status.why if status is not None else "silent", [b[1] for b in booths]
