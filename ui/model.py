"""The app model: one QObject between the engine and every widget.

The engine calls back on every sample and event; widgets must not redraw that often. The
model keeps what the screen needs (a pleth ring buffer and a 10-minute trend per station,
the active alarms) and emits typed Qt signals for events. Widgets redraw from a timer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from alerts.manager import SYSTEM_STATION
from oximon.engine import Engine, StationLive
from oximon.types import EngineEvent, Priority, Sample

PLETH_SECONDS = 6.0
TREND_SECONDS = 600.0


class Ring:
    """A fixed-size numpy ring buffer; `values()` returns oldest → newest."""

    def __init__(self, size: int, fill: float = math.nan):
        self._data = np.full(size, fill, dtype=float)
        self._pos = 0
        self.version = 0  # bumps on every write, so a plot redraws only when changed

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
    station: str
    condition: str
    priority: Priority
    raised_t: float
    message: str = ""
    value: float | None = None
    technical: bool = False
    acknowledged: bool = False
    escalated: bool = False


@dataclass
class StationView:
    """Per-station buffers the tiles draw from."""

    pleth: Ring
    trend_spo2: Ring
    trend_pr: Ring
    next_trend_t: float = -math.inf
    alarms: dict[str, ActiveAlarm] = field(default_factory=dict)

    def top_alarm(self) -> ActiveAlarm | None:
        if not self.alarms:
            return None
        return max(self.alarms.values(),
                   key=lambda a: (not a.acknowledged, a.priority, a.escalated, -a.raised_t))


class DashboardModel(QObject):
    event = Signal(object)  # EngineEvent
    alarms_changed = Signal()

    def __init__(self, engine: Engine, pleth_hz: float = 50.0):
        super().__init__()
        self.engine = engine
        self.views: dict[str, StationView] = {
            sid: StationView(Ring(int(PLETH_SECONDS * pleth_hz)),
                             Ring(int(TREND_SECONDS)), Ring(int(TREND_SECONDS)))
            for sid in engine.stations
        }
        # Alarms about the whole system (monitoring stopped, sound unavailable).
        self.system_alarms: dict[str, ActiveAlarm] = {}
        engine.subscribe_samples(self._on_sample)
        engine.subscribe(self._on_event)

    def live(self, sid: str) -> StationLive:
        return self.engine.stations[sid]

    def _on_sample(self, sid: str, sample: Sample) -> None:
        view = self.views[sid]
        if sample.pleth:
            view.pleth.extend(sample.pleth)
        if sample.t >= view.next_trend_t:  # one trend point per second
            view.next_trend_t = sample.t + 1.0
            view.trend_spo2.extend((sample.spo2,))
            view.trend_pr.extend((sample.pr,))

    def _on_event(self, event: EngineEvent) -> None:
        if event.type == "alarm" and (event.station in self.views
                                      or event.station == SYSTEM_STATION):
            alarms = (self.views[event.station].alarms if event.station in self.views
                      else self.system_alarms)
            cond = event.fields.get("condition", "")
            if event.state == "raised":
                alarms[cond] = ActiveAlarm(
                    event.station, cond, Priority.parse(event.fields.get("priority", "low")),
                    event.t, event.fields.get("message", ""), event.fields.get("value"),
                    bool(event.fields.get("technical")))
            elif cond in alarms and event.state == "acknowledged":
                alarms[cond].acknowledged = True
            elif cond in alarms and event.state == "escalated":
                alarms[cond].escalated = True
            elif event.state == "cleared":
                alarms.pop(cond, None)
            self.alarms_changed.emit()
        self.event.emit(event)

    def all_alarms(self) -> list[ActiveAlarm]:
        out = [a for v in self.views.values() for a in v.alarms.values()]
        out.extend(self.system_alarms.values())
        out.sort(key=lambda a: (a.acknowledged, -a.priority, a.raised_t))
        return out

    def acknowledge(self, sid: str, condition: str | None = None, by: str = "") -> None:
        self.engine.acknowledge(sid, condition, by)
