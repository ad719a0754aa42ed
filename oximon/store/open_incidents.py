"""The incidents this run keeps open: opening one from an alarm or by hand, joining alarms
to it, carrying on with one a stopped run left (adopting an orphan), closing it by hand or
when it goes quiet. Every decision is made in memory at once (its id, its "opened" event);
the write queue writes it. The rule itself is `episode`; this is its bookkeeping."""

from __future__ import annotations

import math
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from oximon.events import EngineEvent
from oximon.store import episode
from oximon.store.event_intake import AUTO, AlarmChange, incident_closed, incident_opened
from oximon.store.reading_gate import ReadingGate
from oximon.store.record import NOT_RECORDED
from oximon.store.sessions import Orphan, interrupted_close
from oximon.store.timebase import Timebase
from oximon.store.write_queue import WriteQueue
from oximon.store.writer import Live, Pending
from oximon.types import ConditionChange, Station

PRE_S = 300.0  # trace kept from 5 minutes before an incident opened


class OpenIncidents:
    """Open incidents by station, the orphans a dead run left, and what to report."""

    def __init__(self, queue: WriteQueue, time_: Timebase, gate: ReadingGate,
                 seal_every_s: float):
        self.queue = queue
        self.time = time_
        self.gate = gate
        self.seal_every_s = seal_every_s
        self.stations: dict[str, Station] = {}
        self.by_station: dict[str, str] = {}  # station -> open incident id
        self.orphans: dict[str, Orphan] = {}  # station -> incident left by a dead run
        # Incidents an earlier run left open that this run closed as interrupted at start.
        self.interrupted: dict[str, str] = {}  # incident id -> station
        # Incidents this run closed as interrupted at its own stop.
        self.closed_at_stop: dict[str, str] = {}  # incident id -> station
        self.out: list[EngineEvent | ConditionChange] = []  # to report to the engine
        self.session_ts = -float("inf")  # when this run's session began (recorded time)

    @property
    def live(self) -> dict[str, Live]:
        return self.queue.live

    def current(self, station: str) -> str | None:
        if station in self.orphans:
            return self.orphans[station].id
        return self.by_station.get(station)

    def seen(self, station: str, t: float) -> None:
        """This run sees `station` at `t`: carry on with an incident a stopped run left."""
        if station in self.orphans:
            self._adopt(station, t)

    def on_alarm(self, change: AlarmChange) -> None:
        """An alarm of a station: it may open an incident, and joins the open one."""
        self.seen(change.station, change.t)
        iid = self.by_station.get(change.station)
        decision = episode.on_alarm_decision(change.state, change.high, iid is not None)
        if decision == "open":
            iid = self.open(change.station, change.t, change.condition, AUTO,
                            {"value": change.value})
        if iid is None:
            return
        live = self.live[iid]
        self.queue.events.append(Pending(iid, "alarm", self.time.wall(change.t), change.t,
                                         change.actor, dict(change.data)))
        live.episode = episode.after_alarm(live.episode, change.state, change.condition,
                                           change.high, change.t)
        self.queue.request()

    def check_quiet(self, now: float, quiet_s: float) -> None:
        """Close an incident nobody is working on (see `episode.quiet_close_t`)."""
        for live in list(self.live.values()):
            if live.closed:
                continue
            at = episode.quiet_close_t(live.episode, now, quiet_s)
            if at is not None:
                self.close(live, at, [NOT_RECORDED], [], AUTO,
                           "closed by oximon: no high alarm and nothing recorded for "
                           f"{quiet_s / 60:g} min", auto=True)

    def open(self, station: str, t: float, reason: str, by: str,
             extra: dict[str, Any] | None = None) -> str:
        ts = self.time.wall(t)
        # 48 random bits after the second: ids never collide (and the database refuses a
        # second "opened" record for an id, so a collision could never merge two incidents).
        iid = datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)
        st = self.stations.get(station)
        data: dict[str, Any] = {"station": station, "alias": st.label if st else station,
                                "booth": st.booth if st else "", "reason": reason}
        data.update({k: v for k, v in (extra or {}).items() if v is not None})
        marker = self.time.timeline.marker()
        if marker is not None:  # not live monitoring: the chain says so
            data["timeline"] = marker
        self.queue.events.append(Pending(iid, "opened", ts, t, by or AUTO, data))
        self.live[iid] = Live(iid, station, ts - PRE_S, t)
        self.by_station[station] = iid
        self.queue.audit("incident_opened", iid, {"station": station, "reason": reason}, by)
        self.out.append(incident_opened(t, station, iid, reason))
        return iid

    def _adopt(self, station: str, t: float) -> None:
        """This run sees a station whose incident a stopped run left open: carry on with it."""
        orphan = self.orphans.pop(station)
        iid = orphan.id
        self.live[iid] = Live(iid, station, orphan.opened_ts - PRE_S, t, needs_copy=False,
                              episode=episode.Episode(last_clear_t=t),
                              sealed_to=orphan.sealed_to)
        self.by_station[station] = iid
        # The gap ends no earlier than this run began (a replay's first sample may be
        # stamped before it), and this run's rows follow the stopped run's, never among them.
        end = max(self.time.wall(t), self.session_ts)
        if orphan.last_ts is not None:
            self.gate.continue_after(station, orphan.last_ts)
        self.queue.events.append(Pending(iid, "resumed", end, t, AUTO,
                                         {"gap_end": end, "real_ts": round(time.time(), 3),
                                          "session": self.queue.session_id}))
        self.queue.audit("incident_resumed", iid, {"station": station})

    def close(self, live: Live, t: float, outcome: list[str], aftercare: list[str],
              by: str, note: str, auto: bool = False) -> None:
        ts = self.time.wall(t)
        live.closed, live.end_ts = True, ts
        self.by_station.pop(live.station, None)
        data = {"outcome": outcome, "aftercare": aftercare, "note": note, "auto": auto}
        self.queue.events.append(Pending(live.id, "closed", ts, t, by or AUTO, data,
                                         seal="full"))
        self.queue.audit("incident_closed", live.id, {"outcome": outcome, "auto": auto}, by)
        self.out.append(incident_closed(t, live.station, live.id, outcome))

    def add_seals(self, t: float, force: bool = False) -> None:
        """Every few seconds, each open incident's new trace rows are sealed into its chain
        (so an open or interrupted incident's trace is tamper-evident too)."""
        for live in self.live.values():
            if live.closed:
                continue
            if force or live.last_seal_t is None or t - live.last_seal_t >= self.seal_every_s:
                live.last_seal_t = t
                self.queue.events.append(Pending(live.id, "trace_sealed", self.time.wall(t),
                                                 t, AUTO, {}, seal="segment"))

    def note_stop(self, resume_gap_s: float = 0.0) -> None:
        """A clean stop: each open incident's trace is sealed and the gap noted; unless a
        next run may resume it (`resume_gap_s` > 0) it is closed as interrupted."""
        for live in list(self.live.values()):
            if not live.closed:
                # The stop is no earlier than the station's last reading (a source that
                # ran ahead of the clock, a replay): the trace keeps every row it wrote.
                last = self.gate.last_ts(live.station)
                now = max(self.time.now_ts(), last if last is not None else -math.inf)
                self.queue.events.append(Pending(live.id, "trace_sealed", now, None, AUTO,
                                                 {}, seal="segment"))
                self.queue.events.append(Pending(live.id, "stopped", now, self.time.now_t(),
                                                 AUTO, {"gap_start": now,
                                                        "real_start": time.time(),
                                                        "reason": "monitoring stopped"}))
                if resume_gap_s <= 0:
                    live.closed, live.end_ts = True, now
                    self.by_station.pop(live.station, None)
                    self.queue.events.append(interrupted_close(
                        live.id, now, "monitoring stopped", self.time.now_t()))
                    self.closed_at_stop[live.id] = live.station
                    self.queue.audit("incident_closed", live.id, {
                        "outcome": [NOT_RECORDED], "auto": True, "interrupted": True})
