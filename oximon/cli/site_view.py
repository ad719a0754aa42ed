"""The dashboard on a site of several computers: every booth of the site on this screen.

Booths whose `hub` is named in the site file run on that hub (`oximon hub`); here they
are remote: `oximon.site.remote` turns their published state into a source per booth, and
`SiteAlarms` (below) is this screen's alarm manager showing their alarms as their hub
holds them. Booths with no hub run on this computer as before. Run a computer's own
booths with `oximon hub` (a service) and its screen as a viewer of the whole site: each
booth then has one alarm owner, which keeps monitoring when a screen is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from oximon.alarms import SYSTEM_STATION, AlarmView, Audible
from oximon.alerts.manager import AlarmManager
from oximon.cli.hub import site_url
from oximon.clock import Clock
from oximon.config import SiteConfig
from oximon.engine import Engine
from oximon.events import AlarmAcknowledged, AlarmCleared, AlarmRaised, EngineEvent
from oximon.ports import Source
from oximon.profile import Profile
from oximon.site.remote import LocalRecords, RemoteBooths, RemoteSource
from oximon.site.state import HUB_SILENT, hub_alarm_words
from oximon.site.viewer import SiteWatch
from oximon.store import Store
from oximon.types import ConditionChange, Priority, Sample, Station

STARTUP_GRACE_S = 5.0  # a hub not seen yet is silent only after this (engine seconds)


class SiteView:
    """The remote booths of a site file, for one dashboard."""

    def __init__(self, config: SiteConfig):
        url = site_url(config)
        booths = {s.id: (s.hub, s.alias or s.id) for s in config.stations if s.hub}
        self.config = config
        self.remote = RemoteBooths(url, booths, SiteWatch(url, "dashboard"))

    def stations(self, local: list[tuple[Station, Source | None]]
                 ) -> list[tuple[Station, Source | None]]:
        """The local stations (no hub) and a remote source for each hub's booth, in file
        order."""
        mine = {st.id: (st, src) for st, src in local}
        out: list[tuple[Station, Source | None]] = []
        for s in self.config.stations:
            if s.hub:
                source = RemoteSource(self.remote, s.id)
                out.append((Station(s.id, alias=s.alias or s.id, booth=s.booth or s.id,
                                    device=source.info), source))
            elif s.id in mine:
                out.append(mine[s.id])
        return out

    def build_engine(self, clock: Clock, profile: Profile,
                     stations: list[tuple[Station, Source | None]], records: Store) -> Engine:
        remote = set(self.remote.booths)
        engine = Engine(clock, profile, lambda p: SiteAlarms(p, self.remote),
                        records=LocalRecords(records, remote))
        for station, source in stations:
            engine.add_station(station, source)
            if station.id not in remote:
                records.add_station(station)
        self.remote.start()
        return engine

    def stop(self) -> None:
        self.remote.stop()


class SiteAlarms(AlarmManager):
    """This screen's alarm manager (sound, watchdog, "records not saved" stay local) that
    also shows each remote booth's alarms as its hub's alarm manager holds them, forwards
    an acknowledgement or an audio pause to the owning hub, ignores what its own detectors
    say about remote booths (the hub decides), and raises "Booths 5–8 not monitored — hub
    room-2 silent" (high, technical) while a hub is not alive."""

    def __init__(self, profile: Profile, remote: RemoteBooths,
                 notify: Callable[..., None] | None = None):
        super().__init__(profile, notify)
        self.remote = remote
        self._shown: dict[tuple[str, str], AlarmView] = {}  # remote alarms last announced
        self._started: float | None = None

    # -- what the detectors say: the hub decides for its own booths ------------------------
    def on_condition(self, change: ConditionChange) -> list[EngineEvent]:
        if change.station in self.remote.booths:
            return []
        return super().on_condition(change)

    def observe(self, station: str, sample: Sample) -> None:
        if station not in self.remote.booths:
            super().observe(station, sample)

    # -- what a person does: a remote booth's alarm belongs to its hub ----------------------
    def acknowledge(self, now: float, station: str, condition: str | None = None,
                    by: str = "") -> list[EngineEvent]:
        if station in self.remote.booths:
            self.remote.send("acknowledge", by, station, condition)
            return []
        return super().acknowledge(now, station, condition, by)

    def pause_audio(self, now: float, by: str = "") -> list[EngineEvent]:
        events = super().pause_audio(now, by)
        if events:  # every hub records who paused; every screen shows it
            self.remote.send("pause_audio", by)
        return events

    # -- what the screen shows -------------------------------------------------------------
    def active_alarms(self) -> list[AlarmView]:
        return sorted(super().active_alarms() + list(self._shown.values()),
                      key=AlarmView.sort_key)

    def audible(self) -> Audible | None:
        mine = super().audible()
        if self.paused_until is not None:
            return mine
        paused = {h for h, s in self.remote.watch.snapshot().hubs.items() if s.pause_left_s > 0}
        loud = [a for a in self._shown.values() if not a.acknowledged
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
        return super().tick(now) + self._hub_alarms(now) + self._announce(now)

    def _hub_alarms(self, now: float) -> list[EngineEvent]:
        """One high technical alarm per hub not alive, naming its booths."""
        out: list[EngineEvent] = []
        snap = self.remote.watch.snapshot()
        for hub, booths in self.remote.hubs().items():
            status = snap.hubs.get(hub)
            silent = status is None or not status.alive
            if status is None and now - (self._started or now) < STARTUP_GRACE_S:
                silent = False  # just started: give the hub its first heartbeat
            labels = [self.remote.booths[b][1] for b in booths]
            words = hub_alarm_words(hub, labels, status.why if status else "silent")
            out += super().on_condition(ConditionChange(
                SYSTEM_STATION, f"{HUB_SILENT}:{hub}", silent, now, Priority.HIGH,
                technical=True, message=words))
        return out

    def _announce(self, now: float) -> list[EngineEvent]:
        """Remote alarms as events (raised, acknowledged, cleared), so every listener of
        this screen (the model, the speaker) hears a change made on a hub."""
        views: dict[tuple[str, str], AlarmView] = {}
        for booth in self.remote.booths:
            st = self.remote.state(booth)
            if st is not None:
                views.update(((booth, a.condition), a.view(booth, now)) for a in st.alarms)
        out: list[EngineEvent] = []
        for key, v in views.items():
            old = self._shown.get(key)
            if old is None:
                out.append(AlarmRaised(t=now, station=v.station, condition=v.condition,
                                       priority=v.priority, technical=v.technical,
                                       message=v.message, raised_t=v.raised_t, worst=v.worst,
                                       value=v.value))
            else:
                if v.acknowledged and not old.acknowledged:
                    out.append(AlarmAcknowledged(
                        t=now, station=v.station, condition=v.condition, priority=v.priority,
                        technical=v.technical, message=v.message, raised_t=old.raised_t,
                        worst=v.worst, by=v.acknowledged_by))
                v = replace(v, raised_t=old.raised_t)  # the screen's order stays steady
            self._shown[key] = v
        for key in [k for k in self._shown if k not in views]:
            gone = self._shown.pop(key)
            out.append(AlarmCleared(t=now, station=gone.station, condition=gone.condition,
                                    priority=gone.priority, technical=gone.technical,
                                    message=gone.message, raised_t=gone.raised_t,
                                    worst=gone.worst))
        return out
