"""What a protocol parser returns: whole frames as small value objects.

Every parser in `drivers/` turns bytes into a list of these, whatever the device: a
`Reading` (numbers, already cleaned: NaN plus `Flags` instead of 127/255 markers), a
`Waveform` (pleth points without numbers), a `BatteryLevel`, or a `Status` (anything
else the device says: features, device id, working state...). The transports and the
`decode` command only deal with these, never with a protocol's bytes.

They are plain slotted classes rather than frozen dataclasses because a one-hour 100 Hz
capture is 360 000 of them and frozen construction is several times slower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from oximon.types import Flags


@dataclass(slots=True, eq=True)
class Reading:
    """Numbers from one device frame. `spo2`/`pr` are NaN when the device had no value
    (the reason is in `flags`); `signal` is 0..1; `pleth` holds the waveform points (0..100)
    this frame carried; `battery` is percent where the frame reports it."""

    spo2: float
    pr: float
    pi: float | None = None
    flags: Flags = Flags.NONE
    signal: float | None = None
    pleth: tuple[float, ...] = ()
    battery: float | None = None
    extra: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spo2": None if math.isnan(self.spo2) else _num(self.spo2),
            "pr": None if math.isnan(self.pr) else _num(self.pr),
            "pi": self.pi,
            "flags": self.flags.names(),
        }
        if self.signal is not None:
            out["signal"] = round(self.signal, 3)
        if self.pleth:
            out["pleth"] = [None if math.isnan(p) else _num(p) for p in self.pleth]
        if self.battery is not None:
            out["battery"] = _num(self.battery)
        if self.extra:
            out.update(self.extra)
        return out


@dataclass(slots=True, eq=True)
class Waveform:
    """Pleth points (0..100) with no numbers, e.g. Viatom's waveform frame."""

    points: tuple[float, ...]
    beats: tuple[bool, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"frame": "waveform", "pleth": [_num(p) for p in self.points]}
        if any(self.beats):
            out["beats"] = [i for i, b in enumerate(self.beats) if b]
        return out


@dataclass(slots=True, eq=True)
class BatteryLevel:
    """A battery report on its own (Battery Service, Viatom's battery frame)."""

    percent: float
    level: int | None = None  # the device's own scale where it has one (Viatom 0..3)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"frame": "battery", "battery": _num(self.percent)}
        if self.level is not None:
            out["level"] = self.level
        return out


@dataclass(slots=True, eq=True)
class Status:
    """Any other frame: `kind` names it ("features", "device_id", "packet_0x0c"...)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.kind, **self.fields}


Frame = Reading | Waveform | BatteryLevel | Status


class Parser(Protocol):
    """A stream-safe parser for one connection: `feed` the bytes as they arrive (any
    split), get back every whole frame they completed, in order. `skipped` counts bytes
    dropped while resynchronising; `pending` is the unused tail kept for the next feed;
    `out_of_range` counts values dropped as impossible (see SPO2_MAX)."""

    skipped: int
    out_of_range: int

    def feed(self, data: bytes) -> list[Frame]: ...

    @property
    def pending(self) -> bytes: ...


# What a body can show. A decoded number outside these is a protocol oddity or a corrupt
# frame, never a measurement: parsers turn it into NaN and count it (`out_of_range`), so it
# can neither raise nor silence an alarm. The profile's validity limits judge the rest.
SPO2_MAX = 100.0  # SpO2 must be > 0 and <= this (0 is most protocols' "no value")
PR_MAX = 300.0  # PR must be > 0 and <= this


def implausible_spo2(x: float) -> bool:
    """True for a number that cannot be an SpO2 (NaN is "no value", not implausible)."""
    return not math.isnan(x) and not 0.0 < x <= SPO2_MAX


def implausible_pr(x: float) -> bool:
    return not math.isnan(x) and not 0.0 < x <= PR_MAX


BUFFER_CAP = 4096  # bytes kept between feeds; a peer that never completes a frame can't grow it


def _num(x: float) -> float | int:
    """Whole numbers print as ints in JSON (98, not 98.0)."""
    return int(x) if float(x).is_integer() else x


def cap_tail(tail: bytes, cap: int = BUFFER_CAP) -> tuple[bytes, int]:
    """Keep at most `cap` bytes of an unparsed tail; return it and how many were dropped."""
    if len(tail) <= cap:
        return tail, 0
    return tail[-cap:], len(tail) - cap
