"""Per-station detection: samples and device states in, condition changes out.

Pure: no I/O, no wall clock — time comes from the samples and from `tick(now)`.
"""

from __future__ import annotations

import math

from oximon.profile import Profile
from oximon.types import (
    ConditionChange,
    DeviceState,
    Flags,
    Priority,
    Sample,
    StateChange,
)


class _DelayedThreshold:
    """Holds while `value < threshold`; becomes active after holding for `delay` seconds;
    clears when value >= threshold + hysteresis or the reading becomes invalid."""

    def __init__(self, name: str, threshold: float, delay: float, hysteresis: float,
                 priority: Priority, below: bool = True, message: str = ""):
        self.name = name
        self.threshold = threshold
        self.delay = delay
        self.hysteresis = hysteresis
        self.priority = priority
        self.below = below
        self.message = message
        self.onset: float | None = None
        self.active = False
        self.extreme = math.nan

    def _breached(self, value: float) -> bool:
        return value < self.threshold if self.below else value > self.threshold

    def _recovered(self, value: float) -> bool:
        if self.below:
            return value >= self.threshold + self.hysteresis
        return value <= self.threshold - self.hysteresis

    def update(self, station: str, t: float, value: float) -> ConditionChange | None:
        if math.isnan(value):
            # An invalid reading neither confirms nor clears a desaturation: the no-reading
            # detector takes over; a latched alarm is the alarm system's business.
            if not self.active:
                self.onset = None
            return None
        if self._breached(value):
            if self.onset is None:
                self.onset = t
                self.extreme = value
            else:
                self.extreme = min(self.extreme, value) if self.below else max(self.extreme, value)
            if not self.active and t - self.onset >= self.delay:
                self.active = True
                return ConditionChange(station, self.name, True, t, self.priority,
                                       onset=self.onset, value=value, message=self.message)
            return None
        if self.active and self._recovered(value):
            self.active = False
            self.onset = None
            return ConditionChange(station, self.name, False, t, self.priority,
                                   value=self.extreme, message=self.message)
        if not self.active:
            self.onset = None
        return None


class StationPipeline:
    """Streaming detectors for one station."""

    def __init__(self, station: str, profile: Profile):
        self.station = station
        self.profile = profile
        low = profile["spo2_low"]
        self._spo2_low = _DelayedThreshold(
            "spo2_low", low["threshold"], low["delay_s"], low["hysteresis"], low["priority"],
            message="Low oxygen — check breathing, SAVE ME")
        nr = profile["no_reading"]
        self._no_reading_delay = nr["delay_s"]
        self._no_reading_priority = nr["priority"]
        self._last_valid_t: float | None = None
        self._invalid_since: float | None = None
        self._no_reading_active = False
        self._state = DeviceState.CONNECTING
        self._lost_active = False
        self._battery_active = False

    def push(self, sample: Sample) -> list[ConditionChange]:
        out: list[ConditionChange] = []
        if self._state not in (DeviceState.STREAMING, DeviceState.NO_SIGNAL):
            self._state = DeviceState.STREAMING  # a sample arrived: the device is connected
        if sample.valid:
            self._last_valid_t = sample.t
            self._invalid_since = None
            if self._no_reading_active:
                self._no_reading_active = False
                out.append(self._technical("no_reading", False, sample.t))
        elif self._invalid_since is None:
            self._invalid_since = sample.t
        change = self._spo2_low.update(self.station, sample.t, sample.spo2)
        if change is not None:
            out.append(change)
        low_batt = bool(sample.flags & Flags.LOW_BATTERY)
        if low_batt != self._battery_active:
            self._battery_active = low_batt
            out.append(self._technical("battery_low", low_batt, sample.t))
        out.extend(self.tick(sample.t))
        return out

    def on_state(self, change: StateChange) -> list[ConditionChange]:
        out: list[ConditionChange] = []
        self._state = change.state
        lost = change.state in (DeviceState.LOST, DeviceState.RECONNECTING)
        if lost != self._lost_active:
            self._lost_active = lost
            out.append(self._technical("lost_device", lost, change.t))
        if change.state is not DeviceState.STREAMING and change.state is not DeviceState.NO_SIGNAL:
            # Not connected: "no reading" is not the right words; lost device covers it.
            self._invalid_since = None
            if self._no_reading_active:
                self._no_reading_active = False
                out.append(self._technical("no_reading", False, change.t))
        elif self._invalid_since is None and self._last_valid_t is None:
            self._invalid_since = change.t
        return out

    def tick(self, now: float) -> list[ConditionChange]:
        """Time-driven checks (called by the engine even when no samples arrive)."""
        connected = self._state in (DeviceState.STREAMING, DeviceState.NO_SIGNAL)
        if not connected or self._no_reading_active:
            return []
        since = self._invalid_since
        if since is None and self._last_valid_t is not None:
            since = self._last_valid_t  # silent link: no samples at all
        if since is not None and now - since >= self._no_reading_delay:
            self._no_reading_active = True
            return [self._technical("no_reading", True, now, onset=since)]
        return []

    def _technical(self, name: str, active: bool, t: float,
                   onset: float | None = None) -> ConditionChange:
        priority = {
            "no_reading": self._no_reading_priority,
            "lost_device": self.profile["lost_device"]["priority"],
            "battery_low": self.profile["battery_low"]["priority"],
        }[name]
        message = {
            "no_reading": "No reading — check on the person",
            "lost_device": "Lost device",
            "battery_low": "Battery low",
        }[name]
        return ConditionChange(self.station, name, active, t, priority, technical=True,
                               onset=onset, message=message)
