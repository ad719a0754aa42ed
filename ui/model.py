"""The app model: one QObject between the engine and every widget.

The engine calls back on every sample and event; widgets must not redraw that often. The
model keeps what the screen needs — a pleth ring and a 10-minute trend per station, the
alarms (with what happened while they were latched), the audio pause, open incidents and
device health — and emits Qt signals for changes. Widgets redraw from one timer.

Every time here is engine time (`engine.clock.now()`), so tests drive it with a ManualClock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from oximon.alarms import SYSTEM_STATION, AlarmView
from oximon.clock import Clock
from oximon.engine import Engine, StationLive
from oximon.events import (
    AlarmEvent,
    AudioPaused,
    AudioResumed,
    DeviceStateChanged,
    EngineEvent,
    IncidentClosed,
    IncidentOpened,
)
from oximon.ports import AlarmSystem, Source
from oximon.types import DeviceState, Sample, Station

PLETH_SECONDS = 5.0
TREND_SECONDS = 600
WATCH_BELOW = 95.0  # GUIDELINE: 95–100 normal; 90–94 the watch band (no sound)
_DROP_STATES = {DeviceState.LOST, DeviceState.RECONNECTING}


class Ring:
    """A fixed-size numpy ring buffer; `values()` returns oldest → newest."""

    def __init__(self, size: int, fill: float = math.nan):
        self._data = np.full(size, fill, dtype=float)
        self._pos = 0
        self.version = 0  # bumps on every write, so a plot redraws only when changed

    def __len__(self) -> int:
        return len(self._data)

    def extend(self, values: np.ndarray | tuple[float, ...]) -> None:
        arr = np.asarray(values, dtype=float)
        n = len(arr)
        if n == 0:
            return
        size = len(self._data)
        if n >= size:
            self._data[:] = arr[-size:]
            self._pos = 0
        else:
            end = self._pos + n
            if end <= size:
                self._data[self._pos:end] = arr
            else:
                first = size - self._pos
                self._data[self._pos:] = arr[:first]
                self._data[: n - first] = arr[first:]
            self._pos = end % size
        self.version += 1

    def values(self) -> np.ndarray:
        return np.concatenate((self._data[self._pos:], self._data[: self._pos]))


@dataclass
class DeviceHealth:
    """Per-station device facts for the health view (counts are for this shift)."""

    drops: int = 0
    last_state: DeviceState | None = None
    last_change_t: float | None = None


@dataclass
class Marker:
    """An action shown on a station's trend (e.g. 'N1' for the first naloxone dose)."""

    t: float
    short: str


@dataclass
class StationView:
    """Per-station buffers the tiles draw from, and the station's alarms as the alarm
    system shows them (read through, never kept here)."""

    station: str
    alarm_system: AlarmSystem
    pleth: Ring
    trend_spo2: Ring
    trend_pr: Ring
    trend_last_s: int | None = None  # the whole engine second the trend's last point is
    health: DeviceHealth = field(default_factory=DeviceHealth)
    markers: list[Marker] = field(default_factory=list)
    markers_version: int = 0
    pending: tuple[float, float] | None = None  # this second's latest (spo2, pr)

    @property
    def alarms(self) -> dict[str, AlarmView]:
        """This station's active alarms by condition, most urgent first."""
        return {a.condition: a for a in self.alarm_system.active_alarms()
                if a.station == self.station}

    def top_alarm(self) -> AlarmView | None:
        return next(iter(self.alarms.values()), None)


class DashboardModel(QObject):
    engine_event = Signal(object)  # every EngineEvent, after the model has applied it
    # Alarm state belongs to the engine's alarm system; the model renders its views.
    alarms_changed = Signal()
    stations_changed = Signal()
    incident_opened = Signal(str, str)  # station, incident id
    incident_closed = Signal(str, str)

    def __init__(self, engine: Engine, pleth_hz: float = 50.0):
        super().__init__()
        self.engine = engine
        self.pleth_hz = pleth_hz
        self.views: dict[str, StationView] = {}
        self.incidents: dict[str, str] = {}  # station -> open incident id
        self.shift_start = engine.clock.now()
        for sid in engine.stations:
            self.views[sid] = self._new_view(sid)
        engine.subscribe_samples(self._on_sample)
        engine.subscribe(self._on_event)

    # -- reading ---------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self.engine.clock

    @property
    def alarm_system(self) -> AlarmSystem:
        return self.engine.alarms

    def now(self) -> float:
        return self.engine.clock.now()

    def live(self, sid: str) -> StationLive:
        return self.engine.stations[sid]

    def station_ids(self) -> list[str]:
        """Stations in booth order (the order people expect on the wall)."""
        def key(sid: str) -> tuple:
            booth = self.engine.stations[sid].station.booth
            return (0, int(booth), "") if booth.isdigit() else (1, 0, booth or sid)
        return sorted(self.views, key=key)

    def label(self, sid: str) -> str:
        if sid == SYSTEM_STATION:
            return "All stations"
        live = self.engine.stations.get(sid)
        return live.station.label if live else sid

    def all_alarms(self) -> list[AlarmView]:
        """Alarms of the stations on the wall and of the whole system, most urgent first."""
        return [a for a in self.alarm_system.active_alarms()
                if a.station in self.views or a.station == SYSTEM_STATION]

    @property
    def system_alarms(self) -> dict[str, AlarmView]:
        """Alarms about the whole system (monitoring stopped, sound unavailable)."""
        return {a.condition: a for a in self.alarm_system.active_alarms()
                if a.station == SYSTEM_STATION}

    def escalated_alarms(self) -> list[AlarmView]:
        return [a for a in self.all_alarms() if a.escalated and not a.acknowledged]

    def audio_pause_left(self, now: float | None = None) -> float | None:
        """Seconds of audio pause left, or None when audio is not paused."""
        left = self.alarm_system.pause_remaining(self.now() if now is None else now)
        return left if left > 0 else None

    @property
    def audio_paused_by(self) -> str:
        return self.alarm_system.paused_by

    def since_valid(self, sid: str, now: float | None = None) -> float | None:
        last = self.live(sid).last_valid_t
        return None if last is None else max(0.0, (self.now() if now is None else now) - last)

    def band_limits(self) -> tuple[float, float]:
        """(low, watch): below low is the low band, below watch the watch band."""
        low = float(self.engine.profile["spo2_low"]["threshold"])
        return low, max(low, WATCH_BELOW)

    # -- acting ----------------------------------------------------------------------------
    def acknowledge(self, sid: str, condition: str | None = None, by: str = "") -> None:
        self.engine.acknowledge(sid, condition, by)

    def pause_audio(self, by: str = "") -> bool:
        """False when the profile forbids pausing audio (the screen says so)."""
        return self.engine.pause_audio(by)

    def resume_audio(self, by: str = "") -> bool:
        """End the audio pause now (False: audio was not paused)."""
        return self.engine.resume_audio(by)

    def add_marker(self, sid: str, t: float, short: str) -> None:
        view = self.views.get(sid)
        if view is not None:
            view.markers.append(Marker(t, short))
            view.markers_version += 1

    def add_station(self, station: Station, source: Source) -> None:
        self.engine.attach_station(station, source)
        self.views[station.id] = self._new_view(station.id)
        self.stations_changed.emit()

    def remove_station(self, sid: str) -> None:
        """Refused (ValueError, saying why) while the station alarms or has an incident."""
        view = self.views.get(sid)
        if view is None:
            return
        if any(not a.acknowledged for a in view.alarms.values()):
            raise ValueError(f"{self.label(sid)} has an alarm: acknowledge it first")
        if sid in self.incidents:
            raise ValueError(f"{self.label(sid)} has an open incident: close it first")
        self.engine.remove_station(sid)
        del self.views[sid]
        self.stations_changed.emit()
        self.alarms_changed.emit()

    def swap(self, a: str, b: str) -> None:
        """Swap the booths (and aliases) of two stations: the devices change places."""
        sa, sb = self.live(a).station, self.live(b).station
        sa.booth, sb.booth = sb.booth, sa.booth
        sa.alias, sb.alias = sb.alias, sa.alias
        self.stations_changed.emit()

    def rename(self, sid: str, alias: str, booth: str | None = None) -> None:
        st = self.live(sid).station
        st.alias = alias.strip()
        if booth is not None:
            st.booth = booth.strip()
        self.stations_changed.emit()

    def advance(self, now: float | None = None) -> None:
        """Move every trend on to `now`, so a silent device shows a gap, not a frozen line.
        Called by the dashboard's timer."""
        now = self.now() if now is None else now
        for view in self.views.values():
            self._trend_to(view, math.floor(now))

    # -- engine callbacks ------------------------------------------------------------------
    def _new_view(self, sid: str) -> StationView:
        return StationView(sid, self.engine.alarms, Ring(int(PLETH_SECONDS * self.pleth_hz)),
                           Ring(TREND_SECONDS), Ring(TREND_SECONDS))

    def _on_sample(self, sid: str, sample: Sample) -> None:
        view = self.views.get(sid)
        if view is None:
            return
        if sample.pleth:
            view.pleth.extend(sample.pleth)
        second = math.floor(sample.t)
        self._trend_to(view, second)
        view.pending = (sample.spo2, sample.pr)

    def _trend_to(self, view: StationView, second: int) -> None:
        """Close trend seconds up to (not including) `second`: the last value seen in each,
        NaN for seconds with no valid reading."""
        last = view.trend_last_s
        if last is None:
            view.trend_last_s = second
            return
        if second <= last:
            return
        spo2, pr = view.pending if view.pending is not None else (math.nan, math.nan)
        gap = min(second - last - 1, TREND_SECONDS)
        view.trend_spo2.extend(np.concatenate(([spo2], np.full(gap, math.nan))))
        view.trend_pr.extend(np.concatenate(([pr], np.full(gap, math.nan))))
        view.pending = None
        view.trend_last_s = second

    def _on_event(self, event: EngineEvent) -> None:
        if isinstance(event, AlarmEvent | AudioPaused | AudioResumed):
            self.alarms_changed.emit()
        elif isinstance(event, IncidentOpened):
            if self.incidents.get(event.station) != event.id:
                self.incidents[event.station] = event.id
                self.incident_opened.emit(event.station, event.id)
        elif isinstance(event, IncidentClosed):
            if event.station in self.incidents:
                self.incidents.pop(event.station)
                self.incident_closed.emit(event.station, event.id)
        elif isinstance(event, DeviceStateChanged) and event.station in self.views:
            health = self.views[event.station].health
            if event.device_state in _DROP_STATES and health.last_state not in _DROP_STATES:
                health.drops += 1
            health.last_state = event.device_state
            health.last_change_t = event.t
        self.engine_event.emit(event)
