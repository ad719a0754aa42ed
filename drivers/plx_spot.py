"""PLXS spot-check measurement 0x2A5E — `plx-spot`.

Delivered by *indication* only (enabling notify on it delivers nothing); each indication
is one record. Field layout and status tables are shared with `plx`.
"""

from __future__ import annotations

from typing import Any

from oximon.drivers.frames import Reading
from oximon.drivers.plx import SERVICE, SPOT_CHECK, PacketParser, _Reader, _Short, finish

__all__ = ["SERVICE", "SPOT_CHECK", "parse_spot_check", "parser"]


def parse_spot_check(packet: bytes) -> Reading | None:
    """One 0x2A5E value, or None when it is shorter than its flags require."""
    r = _Reader(bytes(packet))
    try:
        flags = r.u8()
        spo2, pr = r.sfloat(), r.sfloat()
        extra: dict[str, Any] = {}
        if flags & 0x01:
            year = r.u16()
            month, day, hour, minute, second = (r.u8() for _ in range(5))
            extra["timestamp"] = (f"{year:04d}-{month:02d}-{day:02d}T"
                                  f"{hour:02d}:{minute:02d}:{second:02d}")
        meas = r.u16() if flags & 0x02 else None
        dev = r.u24() if flags & 0x04 else None
        pai = r.sfloat() if flags & 0x08 else None
    except _Short:
        return None
    if flags & 0x10:
        extra["device_clock_not_set"] = True
    return finish(spo2, pr, pai, meas, dev, extra)


def parser() -> PacketParser:
    return PacketParser(parse_spot_check)
