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

from oximon.alerts.manager import SYSTEM_STATION
from oximon.engine import Engine, StationLive
from oximon.types import DeviceState, EngineEvent, Priority, Sample, Station

PLETH_SECONDS = 5.0
TREND_SECONDS = 600
WATCH_BELOW = 95.0  # GUIDELINE: 95–100 normal; 90–94 the watch band (no sound)
_DROP_STATES = {DeviceState.LOST.value, DeviceState.RECONNECTING.value}


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
class ActiveAlarm:
    """An alarm as the screen shows it. `ended_t` set: the condition no longer holds but the
    alarm is latched until acknowledged; `worst` is the worst value seen while it held."""

    station: str
    condition: str
    priority: Priority
    raised_t: float
    message: str = ""
    value: float | None = None
    technical: bool = False
    acknowledged: bool = False
    acknowledged_by: str = ""
    escalated: bool = False
    ended_t: float | None = None
    worst: float | None = None

    @property
    def latched(self) -> bool:
        return self.ended_t is not None

    @property
    def unit(self) -> str:
        if self.condition.startswith("spo2"):
            return "%"
        if self.condition.startswith("pr"):
            return "/min"
        return ""

    def what_happened(self, live: StationLive | None) -> str:
        """'was 84 %, now 95 %' once latched ('lowest 84 %, now 86 %' while it holds) for a
        vital-sign alarm; '' for a technical one."""
        if not self.unit:
            return ""
        was = self.worst if self.worst is not None else self.value
        if was is None:
            return ""
        now_value = math.nan
        if live is not None and live.state.has_numbers:
            now_value = live.spo2 if self.unit == "%" else live.pr
        now = "no reading now" if math.isnan(now_value) else f"now {now_value:.0f} {self.unit}"
        worst = "highest" if self.condition.endswith("high") else "lowest"
        return f"{'was' if self.latched else worst} {was:.0f} {self.unit}, {now}"

    def sort_key(self) -> tuple:
        """Most urgent first: unacknowledged, then priority, then a person's vital signs
        before a technical alarm (a severe low on one booth outranks a lost device on
        another, even an escalated one), then escalated, then oldest."""
        return (self.acknowledged, -self.priority, self.technical, not self.escalated,
                self.raised_t)


@dataclass
class DeviceHealth:
    """Per-station device facts for the health view (counts are for this shift)."""

    drops: int = 0
    last_state: str = ""
    last_change_t: float | None = None


@dataclass
class Marker:
    """An action shown on a station's trend (e.g. 'N1' for the first naloxone dose)."""

    t: float
    short: str


@dataclass
class StationView:
    """Per-station buffers the tiles draw from."""

    pleth: Ring
    trend_spo2: Ring
    trend_pr: Ring
    trend_last_s: int | None = None  # the whole engine second the trend's last point is
    alarms: dict[str, ActiveAlarm] = field(default_factory=dict)
    health: DeviceHealth = field(default_factory=DeviceHealth)
    markers: list[Marker] = field(default_factory=list)
    markers_version: int = 0
    pending: tuple[float, float] | None = None  # this second's latest (spo2, pr)

    def top_alarm(self) -> ActiveAlarm | None:
        if not self.alarms:
            return None
        return min(self.alarms.values(), key=ActiveAlarm.sort_key)


class DashboardModel(QObject):
    event = Signal(object)  # every EngineEvent, after the model has applied it
    alarms_changed = Signal()
    stations_changed = Signal()
    incident_opened = Signal(str, str)  # station, incident id
    incident_closed = Signal(str, str)

    def __init__(self, engine: Engine, pleth_hz: float = 50.0):
        super().__init__()
        self.engine = engine
        self.pleth_hz = pleth_hz
        self.views: dict[str, StationView] = {}
        # Alarms about the whole system (monitoring stopped, sound unavailable).
        self.system_alarms: dict[str, ActiveAlarm] = {}
        self.incidents: dict[str, str] = {}  # station -> open incident id
        self.audio_paused_until: float | None = None
        self.audio_paused_by = ""
        self.shift_start = engine.clock.now()
        for sid in engine.stations:
            self.views[sid] = self._new_view()
        engine.subscribe_samples(self._on_sample)
        engine.subscribe(self._on_event)

    # -- reading ---------------------------------------------------------------------------
    @property
    def clock(self):
        return self.engine.clock

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

    def all_alarms(self) -> list[ActiveAlarm]:
        out = [a for v in self.views.values() for a in v.alarms.values()]
        out.extend(self.system_alarms.values())
        out.sort(key=ActiveAlarm.sort_key)
        return out

    def escalated_alarms(self) -> list[ActiveAlarm]:
        return [a for a in self.all_alarms() if a.escalated and not a.acknowledged]

    def audio_pause_left(self, now: float | None = None) -> float | None:
        """Seconds of audio pause left, or None when audio is not paused."""
        if self.audio_paused_until is None:
            return None
        left = self.audio_paused_until - (self.now() if now is None else now)
        return left if left > 0 else None

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

    def pause_audio(self, by: str = "") -> None:
        """Through the alarm system when it can (its "audio" events set the countdown);
        otherwise a local pause of the profile's length so the screen still says so."""
        if not self.engine.pause_audio(by):
            seconds = float(self.engine.profile["alarms"]["audio_pause_s"])
            self.audio_paused_until = self.now() + seconds
            self.audio_paused_by = by
            self.alarms_changed.emit()

    def add_marker(self, sid: str, t: float, short: str) -> None:
        view = self.views.get(sid)
        if view is not None:
            view.markers.append(Marker(t, short))
            view.markers_version += 1

    def add_station(self, station: Station, source) -> None:
        self.engine.attach_station(station, source)
        self.views[station.id] = self._new_view()
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
        self._sync_alarm_snapshot()

    def _sync_alarm_snapshot(self) -> None:
        """Take what events do not carry from the alarm system's own snapshot: that a latched
        alarm's condition has ended, and the worst value seen while it held."""
        snapshot = getattr(self.engine.alarms, "active_alarms", None)
        if snapshot is None:
            return
        for view in snapshot():
            holder = (self.views[view.station].alarms if view.station in self.views
                      else self.system_alarms if view.station == SYSTEM_STATION else None)
            alarm = holder.get(view.condition) if holder is not None else None
            if alarm is None:
                continue
            if view.worst is not None:  # keep the more extreme of theirs and ours
                worse = max if view.condition.endswith("high") else min
                alarm.worst = (float(view.worst) if alarm.worst is None
                               else worse(alarm.worst, float(view.worst)))
            if not view.condition_active and not view.acknowledged:
                alarm.ended_t = view.condition_cleared_t

    # -- engine callbacks ------------------------------------------------------------------
    def _new_view(self) -> StationView:
        return StationView(Ring(int(PLETH_SECONDS * self.pleth_hz)), Ring(TREND_SECONDS),
                           Ring(TREND_SECONDS))

    def _on_sample(self, sid: str, sample: Sample) -> None:
        view = self.views.get(sid)
        if view is None:
            return
        if sample.pleth:
            view.pleth.extend(sample.pleth)
        second = math.floor(sample.t)
        self._trend_to(view, second)
        view.pending = (sample.spo2, sample.pr)
        if sample.valid:
            for alarm in view.alarms.values():
                if alarm.latched:
                    continue
                value = sample.spo2 if alarm.unit == "%" else sample.pr
                if alarm.unit and not math.isnan(value):
                    if alarm.worst is None:
                        alarm.worst = value
                    elif alarm.condition.endswith("high"):
                        alarm.worst = max(alarm.worst, value)
                    else:
                        alarm.worst = min(alarm.worst, value)

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
        if event.type == "alarm" and (event.station in self.views
                                      or event.station == SYSTEM_STATION):
            self._on_alarm(event)
            self.alarms_changed.emit()
        elif event.type == "audio":
            self._on_audio(event)
            self.alarms_changed.emit()
        elif event.type == "incident" and event.station:
            iid = str(event.fields.get("id", ""))
            if event.state == "opened" and self.incidents.get(event.station) != iid:
                self.incidents[event.station] = iid
                self.incident_opened.emit(event.station, iid)
            elif event.state == "closed" and event.station in self.incidents:
                self.incidents.pop(event.station)
                self.incident_closed.emit(event.station, iid)
        elif event.type == "device" and event.station in self.views:
            health = self.views[event.station].health
            if event.state in _DROP_STATES and health.last_state not in _DROP_STATES:
                health.drops += 1
            health.last_state = event.state
            health.last_change_t = event.t
        self.event.emit(event)

    def _on_alarm(self, event: EngineEvent) -> None:
        # Alarms about the whole system (monitoring stopped, sound unavailable) have no tile.
        alarms = (self.views[event.station].alarms if event.station in self.views
                  else self.system_alarms)
        f = event.fields
        cond = str(f.get("condition", ""))
        alarm = alarms.get(cond)
        if event.state == "raised":
            value = f.get("value")
            if alarm is not None and not alarm.acknowledged:  # re-raised while latched
                alarm.ended_t = None
                alarm.priority = Priority.parse(str(f.get("priority", "low")))
                return
            alarms[cond] = ActiveAlarm(
                event.station, cond, Priority.parse(str(f.get("priority", "low"))), event.t,
                str(f.get("message", "")), None if value is None else float(value),
                bool(f.get("technical")))
            alarms[cond].worst = alarms[cond].value
        elif alarm is None:
            return
        elif event.state == "acknowledged":
            if alarm.latched:
                alarms.pop(cond)  # nothing holds it any more
            else:
                alarm.acknowledged, alarm.acknowledged_by = True, str(f.get("by", ""))
        elif event.state == "escalated":
            alarm.escalated = True
            if "priority" in f:
                alarm.priority = Priority.parse(str(f["priority"]))
        elif event.state in ("latched", "condition_cleared") or (
                event.state == "cleared" and f.get("latched")):
            # The condition ended but a latched alarm stays until someone acknowledges it.
            alarm.ended_t = event.t
        elif event.state == "cleared":
            alarms.pop(cond)

    def _on_audio(self, event: EngineEvent) -> None:
        f = event.fields
        if event.state == "paused":
            if "until" in f:
                until = float(f["until"])
            else:
                seconds = f.get("seconds", f.get("duration_s",
                                                 self.engine.profile["alarms"]["audio_pause_s"]))
                until = event.t + float(seconds)
            self.audio_paused_until = until
            self.audio_paused_by = str(f.get("by", ""))
        elif event.state == "resumed":
            self.audio_paused_until = None
