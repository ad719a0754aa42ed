"""Domain types shared by every part of oximon.

These are deliberately plain (frozen dataclasses, enums, floats with NaN for "no value") so
that parsers, detectors, the store and the UI can pass them around without importing each
other. A protocol's magic numbers (127, 255, 0x07FF...) never get this far: a driver maps
them to NaN plus a flag.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from oximon.codes import Flags, Priority

__all__ = ["NAN", "ConditionChange", "DeviceInfo", "DeviceState", "Flags", "Priority",
           "Sample", "StateChange", "Station"]

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading tick of one device.

    `t` is seconds on the engine's clock. `spo2`/`pr` are NaN when the device has no valid
    value. `pleth` holds the waveform points (0..100 scale) that arrived since the previous
    sample, at `pleth_rate` Hz, so the UI can draw a continuous wave without one Sample per
    waveform point.
    """

    t: float
    spo2: float = NAN
    pr: float = NAN
    pi: float | None = None
    pleth: tuple[float, ...] = ()
    pleth_rate: float = 0.0
    flags: Flags = Flags.NONE
    signal: float | None = None  # 0..1 signal strength where the device reports one
    battery: float | None = None  # percent, where the device reports one

    @property
    def valid(self) -> bool:
        return not math.isnan(self.spo2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "spo2": None if math.isnan(self.spo2) else self.spo2,
            "pr": None if math.isnan(self.pr) else self.pr,
            "pi": self.pi,
            "flags": self.flags.names(),
        }


class DeviceState(enum.StrEnum):
    """Connection/signal state of a station's device, as a person would name it."""

    UNASSIGNED = "unassigned"  # a booth with no device assigned yet
    SEARCHING = "searching"  # looking for the device (scan/connect not yet succeeded)
    CONNECTING = "connecting"
    STREAMING = "streaming"  # connected, valid readings
    NO_SIGNAL = "no_signal"  # connected, but finger out / searching for pulse
    LOST = "lost"  # was connected, link dropped or silent
    RECONNECTING = "reconnecting"
    ENDED = "ended"  # a replay or finite source ran out; not a fault

    @property
    def words(self) -> str:
        return _STATE_WORDS[self]

    @property
    def has_numbers(self) -> bool:
        """Only a streaming device may show numbers; every other state shows words."""
        return self is DeviceState.STREAMING


_STATE_WORDS = {
    DeviceState.UNASSIGNED: "No device assigned",
    # Looking for the *device*; a finger oximeter searching for a *pulse* is NO_SIGNAL
    # (its detail says "searching for pulse").
    DeviceState.SEARCHING: "Looking for the device…",
    DeviceState.CONNECTING: "Connecting…",
    DeviceState.STREAMING: "Streaming",
    DeviceState.NO_SIGNAL: "No reading — check on the person",
    DeviceState.LOST: "Lost device",
    DeviceState.RECONNECTING: "Lost device — reconnecting…",
    DeviceState.ENDED: "Recording ended",
}


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What we know about the device behind a station."""

    address: str  # BLE address, serial port, "sim:normal:1", a file path...
    transport: str  # "sim" | "replay" | "ble" | "serial"
    protocol: str = ""  # "plx", "berrymed", "cms50", ... or "" when not applicable
    name: str = ""
    model: str = ""


@dataclass(frozen=True, slots=True)
class StateChange:
    """A source's report that its device changed state (connected, lost, ...)."""

    t: float
    state: DeviceState
    detail: str = ""


SourceEvent = Sample | StateChange


@dataclass(slots=True)
class Station:
    """A booth being watched. The alias is what people see; no real names by default."""

    id: str
    alias: str = ""
    booth: str = ""
    device: DeviceInfo | None = None

    @property
    def label(self) -> str:
        return self.alias or self.booth or self.id


@dataclass(frozen=True, slots=True)
class ConditionChange:
    """A detector's verdict changed: a condition (e.g. "spo2_low") became active or cleared.

    `t` is the time the condition met its rule (after its delay) when it becomes active, or
    the time it stopped holding when it clears; `onset` is when the rule first started to
    hold, so alarm delay = t - onset.
    """

    station: str
    condition: str
    active: bool
    t: float
    priority: Priority = Priority.NONE
    technical: bool = False
    onset: float | None = None
    value: float | None = None  # e.g. the SpO2 that triggered it
    message: str = ""
