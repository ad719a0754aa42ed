"""The dashboard on a site of several computers: every booth of the site on this screen.

Booths whose `hub` is named in the site file run on that hub (`oximon hub`); here they
are remote: `oximon.site.remote` turns their published state into a source per booth, and
`SiteAlarms` (below) is this screen's alarm manager showing their alarms as their hub
holds them. Booths with no hub run on this computer as before.

A dashboard on the computer named as a hub (`--hub NAME`, or the computer's host name is
a hub's name in the file) is that hub: its booths run here as local booths, and
`HubService` publishes them for every other screen exactly as `oximon hub` does
(heartbeat, live state, commands from other screens applied here). Running the hub as a
service and the screen as a viewer (`--no-hub`) stays the sturdier choice: the booths'
alarm owner then keeps monitoring when the screen is closed.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import Any

from oximon.alarms import SYSTEM_STATION, AlarmRequestError, AlarmView, Audible, RestoredAlarm
from oximon.alerts.alarm_state import VITAL
from oximon.alerts.manager import AlarmManager
from oximon.cli.hub import site_url
from oximon.cli.hub_service import HubService
from oximon.cli.wiring import all_simulated, claim_booths, restore_latched_alarms
from oximon.clock import Clock
from oximon.config import SiteConfig
from oximon.engine import Engine
from oximon.events import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEscalated,
    AlarmRaised,
    AlarmUpdated,
    EngineEvent,
)
from oximon.incident_log import StoreIncidentLog
from oximon.ports import Source
from oximon.profile import Profile
from oximon.site.incidents import SiteIncidentLog
from oximon.site.remote import LocalRecords, RemoteBooths, RemoteSource
from oximon.site.state import HUB_SILENT, BoothState, hub_alarm_words, with_last_response
from oximon.site.viewer import SiteWatch
from oximon.store import Store
from oximon.types import ConditionChange, Priority, Sample, Station

STARTUP_GRACE_S = 5.0  # a hub not seen yet is silent only after this (engine seconds)


class SiteView:
    """The remote booths of a site file, for one dashboard."""

    def __init__(self, config: SiteConfig, hub: str | None = None):
        self.url = url = site_url(config)
        booths = {s.id: (s.hub, s.alias or s.id) for s in config.stations
                  if s.hub and s.hub != hub}
        self.config, self.hub = config, hub
        self.remote = RemoteBooths(url, booths, SiteWatch(url, "dashboard"))
        self.service: HubService | None = None

    def stations(self, local: list[tuple[Station, Source | None]]
                 ) -> list[tuple[Station, Source | None]]:
        """The local stations (no hub) and a remote source for each hub's booth, in file
        order."""
        mine = {st.id: (st, src) for st, src in local}
        out: list[tuple[Station, Source | None]] = []
        for s in self.config.stations:
            if s.hub and s.hub != self.hub:
                source = RemoteSource(self.remote, s.id)
                out.append((Station(s.id, alias=s.alias or s.id, booth=s.booth or s.id,
                                    device=source.info), source))
            elif s.id in mine:
                out.append(mine[s.id])
        return out

    def build_engine(self, clock: Clock, profile: Profile,
                     stations: list[tuple[Station, Source | None]], records: Store) -> Engine:
        """As `wiring.build_engine` for this computer's own booths (recorded, claimed,
        their interrupted alarms restored); the remote ones are their hubs'."""
        remote = set(self.remote.booths)
        engine = Engine(clock, profile, lambda p: SiteAlarms(p, self.remote),
                        records=LocalRecords(records, remote))
        local = [(st, src) for st, src in stations if st.id not in remote]
        for station, source in stations:
            engine.add_station(station, source)
            if station.id not in remote:
                records.add_station(station)
        mine = [st for st, _ in local if self._hub_booth(st.id)]
        if mine:  # under the hub's name, as `oximon hub` claims them
            claim_booths(records, [st.id for st in mine], self.hub)
        others = [st.id for st, _ in local if not self._hub_booth(st.id)]
        if others:  # a screen that only watches claims nothing (and needs no right to)
            claim_booths(records, others)
        if local and not all_simulated(local):
            restore_latched_alarms(engine, records)
        if self.hub is not None:
            self.service = HubService(engine, records, self.url, self.hub,
                                      socket.gethostname(), {st.id: st.label for st in mine})
            assert isinstance(engine.alarms, SiteAlarms)
            engine.alarms.last_response = self.service.last_response
            self.service.hint = ("; to watch its booths from this screen, start the "
                                 "dashboard with --no-hub")
            try:
                self.service.connect()
            except BaseException:
                records.close(reason="hub_conflict")
                raise
        self.remote.start()
        return engine

    def _hub_booth(self, sid: str) -> bool:
        return any(s.id == sid and s.hub and s.hub == self.hub for s in self.config.stations)

    def begin(self) -> None:
        """On the dashboard's loop, once it runs: this computer's hub starts serving."""
        if self.service is not None:
            self.service.begin()

    def incident_log(self, records: Store) -> SiteIncidentLog:
        """The screen's incident log: its own booths in its records, a remote booth's
        responses in its hub's incident (one incident per episode, on the site's store)."""
        local = self.service.log if self.service is not None else StoreIncidentLog(records)
        return SiteIncidentLog(local, self.remote, set(self.remote.booths))

    def stop(self) -> None:
        if self.service is not None:
            self.service.close()
        self.remote.stop()


class SiteAlarms(AlarmManager):
    """This screen's alarm manager (sound, watchdog, "records not saved" stay local) that
    also shows each remote booth's alarm as its hub's alarm manager holds it — one alarm
    per booth episode with its priority, details and who acknowledged, plus any technical
    alarm of its device — forwards what a person does (acknowledge, audio pause, a
    logged response) to the owning hub, ignores what its own detectors say about remote
    booths (the hub decides), and raises "Booths 5–8 not monitored — hub room-2 silent"
    (high, technical) while a hub is not alive."""

    def __init__(self, profile: Profile, remote: RemoteBooths,
                 notify: Callable[..., None] | None = None):
        super().__init__(profile, notify)
        self.remote = remote
        self._shown: dict[tuple[str, str], AlarmView] = {}  # remote alarms last announced
        self._silent: dict[str, bool] = {}  # hub -> its "not monitored" alarm is up
        self._paused_hubs: dict[str, bool] = {}  # hub -> its audio was paused
        # on a hub's own screen: the last response logged for one of its booths (words)
        self.last_response: Callable[[str], str] | None = None
        self._started: float | None = None
        self._states: deque[tuple[str, BoothState | None]] = deque()  # heard, not yet shown
        remote.watch.subscribe(self._heard)

    # -- what the detectors say: the hub decides for its own booths ------------------------
    def on_condition(self, change: ConditionChange) -> list[EngineEvent]:
        if change.station in self.remote.booths:
            return []
        return super().on_condition(change)

    def observe(self, station: str, sample: Sample) -> None:
        if station not in self.remote.booths:
            super().observe(station, sample)

    def restore(self, alarms: list[RestoredAlarm], now: float) -> list[EngineEvent]:
        """A remote booth's interrupted alarm is its hub's to restore."""
        return super().restore([a for a in alarms if a.station not in self.remote.booths],
                               now)

    # -- what a person does: a remote booth's alarm belongs to its hub ----------------------
    def acknowledge(self, now: float, station: str, condition: str | None = None,
                    by: str = "") -> list[EngineEvent]:
        if station not in self.remote.booths:
            return super().acknowledge(now, station, condition, by)
        if condition is not None and not any(
                a.station == station and condition in (a.condition, *a.conditions)
                for a in self._shown.values()):
            raise AlarmRequestError(f"nothing to acknowledge at {station}: that alarm has "
                                    "already cleared")
        self.remote.send("acknowledge", by, station, condition)
        return []  # the hub applies it; its publication brings the acknowledgement here

    def pause_audio(self, now: float, by: str = "", seconds: float | None = None
                    ) -> list[EngineEvent]:
        """Paused here (refused with words as on any screen), and on every hub: each
        records who paused; every screen shows it."""
        events = super().pause_audio(now, by, seconds)
        self.remote.send("pause_audio", by, seconds=seconds)
        return events

    def resume_audio(self, now: float, by: str = "") -> list[EngineEvent]:
        """Resumed here and on every hub (each records who)."""
        events = super().resume_audio(now, by)
        self.remote.send("resume_audio", by)
        return events

    def note_response(self, station: str, t: float) -> None:
        if station in self.remote.booths:  # the hub's reminder waits again
            self.remote.send("note_response", "", station)
        else:
            super().note_response(station, t)

    def end_station(self, station: str, now: float, by: str = "", force: bool = False
                    ) -> list[EngineEvent]:
        """A remote booth's alarm ends on its hub, never here; leaving it (standby) is
        refused the same way while its alarm is unacknowledged."""
        if station not in self.remote.booths:
            return super().end_station(station, now, by, force)
        loud = [a for a in self._shown.values() if a.station == station and self._loud(a)]
        if loud and not force:
            raise AlarmRequestError(f"{station} still has an unacknowledged alarm "
                                    f"({loud[0].details or loud[0].message}): acknowledge "
                                    "it first")
        return []

    # -- what the screen shows -------------------------------------------------------------
    def active_alarms(self) -> list[AlarmView]:
        mine = super().active_alarms()
        if self.last_response is not None:  # this screen is a hub: its booths' too
            mine = [with_last_response(a, self.last_response(a.station)) for a in mine]
        return sorted(mine + list(self._shown.values()), key=AlarmView.sort_key)

    def _loud(self, alarm: AlarmView) -> bool:
        """Sounds on its hub: unacknowledged and holding, or a latched high alarm."""
        return not alarm.acknowledged and (
            alarm.condition_active or (self.latch_high and alarm.priority >= Priority.HIGH))

    def audible(self) -> Audible | None:
        mine = super().audible()
        if self.paused_until is not None:
            return mine
        paused = {h for h, s in self.remote.watch.snapshot().hubs.items() if s.pause_left_s > 0}
        loud = [a for a in self._shown.values() if self._loud(a)
                and self.remote.booths[a.station][0] not in paused]
        if not loud:
            return mine
        top = max(a.priority for a in loud)
        theirs = Audible(top, any(a.escalated for a in loud if a.priority == top))
        return theirs if mine is None or theirs.priority > mine.priority else mine

    # -- time: watch the hubs, announce remote changes ---------------------------------------
    def tick(self, now: float) -> list[EngineEvent]:
        if self._started is None:
            self._started = now
        return (super().tick(now) + self._hub_alarms(now) + self._hub_audio(now)
                + self._announce(now))

    def _hub_audio(self, now: float) -> list[EngineEvent]:
        """A pause or resume made on another screen (or a hub's own) is shown here with
        who: a hub newly paused pauses this screen for what is left of it; a hub's pause
        ended (by hand, or by a new alarm there) ends this screen's, so nothing stays
        silent here that sounds on the hub."""
        out: list[EngineEvent] = []
        hubs = self.remote.watch.snapshot().hubs
        for hub in self.remote.hubs():
            status = hubs.get(hub)
            paused = status is not None and status.paused
            was, self._paused_hubs[hub] = self._paused_hubs.get(hub, False), paused
            if status is None or paused == was or not status.alive:
                continue
            if paused and self.paused_until is None:
                with suppress(AlarmRequestError):  # this screen's profile allows no pause
                    out += super().pause_audio(now, status.paused_by,
                                               min(status.pause_left_s, self.audio_pause_s))
            elif not paused and self.paused_until is not None:
                out += super().resume_audio(now, status.resumed_by or f"hub {hub}")
        return out

    def _hub_alarms(self, now: float) -> list[EngineEvent]:
        """One high technical alarm per hub not alive, naming its booths: raised when it
        goes silent, its words kept current while it is (stopped or silent, the booths'
        names as their hub last published them), and gone when the hub is back — the
        booths are monitored again, there is nothing left to latch."""
        out: list[EngineEvent] = []
        snap = self.remote.watch.snapshot()
        for hub, booths in self.remote.hubs().items():
            status = snap.hubs.get(hub)
            silent = status is None or not status.alive
            if status is None and now - (self._started or now) < STARTUP_GRACE_S:
                silent = False  # just started: give the hub its first heartbeat
            was, self._silent[hub] = self._silent.get(hub, False), silent
            cond = f"{HUB_SILENT}:{hub}"
            labels = [st.label if (st := snap.booths.get(b)) is not None and st.label
                      else self.remote.booths[b][1] for b in booths]
            words = hub_alarm_words(hub, labels, status.why if status else "silent")
            if silent and not was:
                out += super().on_condition(ConditionChange(
                    SYSTEM_STATION, cond, True, now, Priority.HIGH, technical=True,
                    message=words))
            elif silent:
                out += self._reword(cond, words, now)
            elif was:
                out += super().on_condition(ConditionChange(
                    SYSTEM_STATION, cond, False, now, Priority.HIGH, technical=True))
                latched = self._alarms.pop((SYSTEM_STATION, cond), None)
                if latched is not None:
                    out.append(self._cleared(latched, now, by=f"hub {hub} back"))
        return out

    def _reword(self, condition: str, words: str, now: float) -> list[EngineEvent]:
        """The hub's alarm says what is true now (its booths' names, stopped or silent)."""
        alarm = self._alarms.get((SYSTEM_STATION, condition))
        if alarm is None or alarm.message == words:
            return []
        alarm.message = words
        if condition in alarm.held:
            alarm.held[condition].message = words
        return [self._updated(alarm, now, "hub words changed", None)]

    def _heard(self, what: str) -> None:
        """On the watch's thread: each state a hub published, kept in order, so a change
        that a newer one followed at once (acknowledged, then worse again) is still
        announced here."""
        if not what.startswith("hub:"):
            self._states.append((what, self.remote.watch.snapshot().booths.get(what)))

    def _announce(self, now: float) -> list[EngineEvent]:
        """Remote alarms as events, so every listener of this screen (the model, the
        speaker) hears each change made on a hub. A booth's vital-sign alarm is one alarm
        (its identity: the booth) whichever condition it names first."""
        out: list[EngineEvent] = []
        while self._states:
            booth, st = self._states.popleft()
            hub = self.remote.booths.get(booth, ("", ""))[0]
            if st is not None and st.hub == hub and self.remote.alive(hub):
                out += self._changes(booth, st, now)
        for booth in self.remote.booths:  # and as it stands now (a hub gone: its alarms go)
            out += self._changes(booth, self.remote.state(booth), now)
        return out

    def _changes(self, booth: str, st: BoothState | None, now: float) -> list[EngineEvent]:
        views = {} if st is None else {(booth, a.condition if a.technical else VITAL):
                                       with_last_response(a.view(booth, now),
                                                          st.responses[-1][0]
                                                          if st.responses else "")
                                       for a in st.alarms}
        out: list[EngineEvent] = []
        for key, v in views.items():
            old = self._shown.get(key)
            if old is not None and v.priority <= old.priority and (
                    v.acknowledged or not old.acknowledged):
                v = replace(v, raised_t=old.raised_t)  # the screen's order stays steady
            out += remote_changes(old, v, now)
            self._shown[key] = v
        for key in [k for k in self._shown if k[0] == booth and k not in views]:
            gone = self._shown.pop(key)
            out.append(AlarmCleared(t=now, **_fields(gone), by=gone.acknowledged_by))
        return out


def _fields(v: AlarmView) -> dict[str, Any]:
    return {"station": v.station, "condition": v.condition, "priority": v.priority,
            "technical": v.technical, "message": v.message, "raised_t": round(v.raised_t, 3),
            "worst": v.worst}


def remote_changes(old: AlarmView | None, new: AlarmView, now: float) -> list[EngineEvent]:
    """What changed in a remote alarm since this screen last showed it, as the events its
    hub's manager gave: raised (or raised to a higher priority: it sounds), acknowledged,
    sounding again (worse since acknowledged), escalated, its details changed."""
    f = _fields(new)
    if old is None:
        return [AlarmRaised(t=now, **f, value=new.value)]
    if new.priority > old.priority:
        return [AlarmRaised(t=now, **f, value=new.value, from_priority=old.priority)]
    out: list[EngineEvent] = []
    if new.acknowledged and not old.acknowledged:
        out.append(AlarmAcknowledged(t=now, **f, by=new.acknowledged_by))
    elif old.acknowledged and not new.acknowledged:
        out.append(AlarmUpdated(t=now, **f, reason=new.worse_since_ack or "sounds again",
                                conditions=new.conditions, value=new.value, sounds=True))
    elif new.conditions != old.conditions or new.details != old.details:
        reason = "conditions changed" if new.conditions != old.conditions else "details changed"
        out.append(AlarmUpdated(t=now, **f, reason=reason,
                                conditions=new.conditions, value=new.value))
    if new.escalated and not old.escalated:
        out.append(AlarmEscalated(t=now, **f, unacknowledged_s=round(now - new.raised_t, 3)))
    return out
