"""Bluetooth SIG Pulse Oximeter Service (PLXS, 0x1822): continuous measurement 0x2A5F — `plx`.

Also home to what the spot-check parser (`plx_spot`) shares: IEEE 11073 SFLOAT, the
status bit tables and the features characteristic (0x2A60).

A GATT notification carries one whole record (attribute values are not a byte stream),
so `feed` parses each call as one packet: there is nothing to resynchronise, and a packet
shorter than its flags require is rejected whole (its bytes counted as skipped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from oximon.drivers.frames import Frame, Reading, Status, implausible_pr, implausible_spo2
from oximon.types import Flags


def uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


SERVICE = uuid16(0x1822)
CONTINUOUS = uuid16(0x2A5F)
SPOT_CHECK = uuid16(0x2A5E)
FEATURES = uuid16(0x2A60)
RACP = uuid16(0x2A52)

# --- IEEE 11073-20601 SFLOAT -------------------------------------------------------------
SFLOAT_SPECIALS = {0x07FF: "NaN", 0x0800: "NRes", 0x07FE: "+INF", 0x0802: "-INF",
                   0x0801: "RFU"}


def sfloat(raw: int) -> float:
    """Decode a 16-bit SFLOAT; every special value ("no value") becomes NaN."""
    if raw in SFLOAT_SPECIALS:
        return math.nan
    exponent = raw >> 12
    mantissa = raw & 0x0FFF
    if exponent >= 8:
        exponent -= 16
    if mantissa >= 0x800:
        mantissa -= 0x1000
    # round() keeps 8.9 as 8.9 rather than 8.900000000000002
    return round(mantissa * 10.0 ** exponent, max(0, -exponent))


def sfloat_special(raw: int) -> str | None:
    return SFLOAT_SPECIALS.get(raw)


# --- status tables ------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusBit:
    flag: Flags
    invalidates: bool  # the numbers are not a valid reading when set


# Measurement status (u16): 13 unavailable, 14 questionable, 15 invalid.
MEASUREMENT_STATUS: dict[int, StatusBit] = {
    13: StatusBit(Flags.SEARCHING, True),
    14: StatusBit(Flags.LOW_SIGNAL, True),
    15: StatusBit(Flags.LOW_SIGNAL, True),
}
# Device & sensor status (u24).
DEVICE_STATUS: dict[int, StatusBit] = {
    1: StatusBit(Flags.LOW_SIGNAL, True),  # equipment malfunction
    3: StatusBit(Flags.LOW_SIGNAL, False),  # inadequate signal
    4: StatusBit(Flags.LOW_SIGNAL, False),  # poor signal
    5: StatusBit(Flags.LOW_SIGNAL, False),  # low perfusion
    6: StatusBit(Flags.MOTION, False),  # erratic signal
    7: StatusBit(Flags.LOW_SIGNAL, False),  # non-pulsatile
    8: StatusBit(Flags.LOW_SIGNAL, False),  # questionable pulse
    10: StatusBit(Flags.MOTION, False),  # interference
    11: StatusBit(Flags.FINGER_OUT, True),  # sensor unconnected to user
    13: StatusBit(Flags.LOW_SIGNAL, False),  # sensor displaced
    14: StatusBit(Flags.LOW_SIGNAL, True),  # sensor malfunction
    15: StatusBit(Flags.FINGER_OUT, True),  # sensor disconnected
}


def apply_status(bits: int, table: dict[int, StatusBit]) -> tuple[Flags, bool]:
    flags, invalid = Flags.NONE, False
    for bit, meaning in table.items():
        if bits >> bit & 1:
            flags |= meaning.flag
            invalid = invalid or meaning.invalidates
    return flags, invalid


class _Reader:
    """Little-endian cursor over one packet; raises `_Short` past the end."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Short
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "little")

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "little")

    def sfloat(self) -> float:
        return sfloat(self.u16())


class _Short(Exception):
    pass


def finish(spo2: float, pr: float, pai: float | None, meas: int | None, dev: int | None,
           extra: dict[str, Any]) -> Reading:
    """Statuses → flags; invalid values → NaN with a reason."""
    flags, invalid = Flags.NONE, False
    if meas is not None:
        f, inv = apply_status(meas, MEASUREMENT_STATUS)
        flags, invalid = flags | f, invalid or inv
        extra["measurement_status"] = meas
    if dev is not None:
        f, inv = apply_status(dev, DEVICE_STATUS)
        flags, invalid = flags | f, invalid or inv
        extra["device_sensor_status"] = dev
    if invalid:
        spo2 = pr = math.nan
        pai = None
    rejected = [name for name, bad in (("spo2", implausible_spo2(spo2)),
                                       ("pr", implausible_pr(pr))) if bad]
    if rejected:  # e.g. SFLOAT 0x07FD is 2045: a number, but not an SpO2
        extra["out_of_range"] = rejected
        spo2 = math.nan if "spo2" in rejected else spo2
        pr = math.nan if "pr" in rejected else pr
    # Flags say what the device said. Only a record with no number at all and no reason
    # is marked "searching" (a NaN never goes without a reason); one missing value (a
    # valid SpO2 with no pulse rate yet) is not, so the other still counts.
    if math.isnan(spo2) and math.isnan(pr) and not flags & (
            Flags.FINGER_OUT | Flags.SEARCHING | Flags.LOW_SIGNAL):
        flags |= Flags.SEARCHING
    if pai is not None and math.isnan(pai):
        pai = None
    return Reading(spo2, pr, pai, flags, extra=extra or None)


def parse_continuous(packet: bytes) -> Reading | None:
    """One 0x2A5F value, or None when it is shorter than its flags require."""
    r = _Reader(bytes(packet))
    try:
        flags = r.u8()
        spo2, pr = r.sfloat(), r.sfloat()
        extra: dict[str, Any] = {}
        if flags & 0x01:
            extra["fast_spo2"], extra["fast_pr"] = _opt(r.sfloat()), _opt(r.sfloat())
        if flags & 0x02:
            extra["slow_spo2"], extra["slow_pr"] = _opt(r.sfloat()), _opt(r.sfloat())
        meas = r.u16() if flags & 0x04 else None
        dev = r.u24() if flags & 0x08 else None
        pai = r.sfloat() if flags & 0x10 else None
    except _Short:
        return None
    return finish(spo2, pr, pai, meas, dev, extra)


def parse_features(packet: bytes) -> Status | None:
    """0x2A60: supported features, then the optional status support masks."""
    r = _Reader(bytes(packet))
    try:
        supported = r.u16()
        fields: dict[str, Any] = {"supported_features": supported}
        if supported & 0x01:
            fields["measurement_status_support"] = r.u16()
        if supported & 0x02:
            fields["device_sensor_status_support"] = r.u24()
    except _Short:
        return None
    return Status("features", fields)


def _opt(x: float) -> float | None:
    return None if math.isnan(x) else x


class PacketParser:
    """Parses each `feed` call as one GATT value with `parse_one`."""

    def __init__(self, parse_one: Any):
        self._parse_one = parse_one
        self.skipped = 0
        self.out_of_range = 0  # numbers dropped as impossible (see frames.SPO2_MAX)

    @property
    def pending(self) -> bytes:
        return b""

    def feed(self, data: bytes) -> list[Frame]:
        if not data:
            return []
        frame = self._parse_one(bytes(data))
        if frame is None:
            self.skipped += len(data)
            return []
        if isinstance(frame, Reading) and frame.extra and "out_of_range" in frame.extra:
            self.out_of_range += len(frame.extra["out_of_range"])
        return [frame]


def parser() -> PacketParser:
    return PacketParser(parse_continuous)

