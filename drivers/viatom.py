"""Viatom / Wellue / Lepu PC-60FW family over BLE (Nordic UART service) — `viatom`.

Frame: `AA 55 | token | len | type | content… | crc`; `len` counts type + content + crc,
so a frame is len + 4 bytes. CRC-8/MAXIM over everything from `AA` to the last content
byte. Frames straddle and share notifications; a bad CRC drops one byte and rescans, so
a false `AA 55` inside garbage costs at most one byte, never a real frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from oximon.drivers.frames import (
    BUFFER_CAP,
    PR_MAX,
    SPO2_MAX,
    BatteryLevel,
    Frame,
    Reading,
    Status,
    Waveform,
    cap_tail,
    implausible_pr,
    implausible_spo2,
)
from oximon.types import Flags

SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
WRITE = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NOTIFY = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
NAME_HINTS = ("pc-60", "pc60", "oxysmart", "wellue", "viatom")
PLETH_RATE = 50.0  # five waveform points per frame, ten frames a second
SYNC = b"\xaa\x55"
TOKEN_OXI, TOKEN_INFO = 0x0F, 0xF0


def _crc_table() -> bytes:
    table = bytearray(256)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x8C if c & 1 else c >> 1  # 0x8C: 0x31 reflected
        table[i] = c
    return bytes(table)


_CRC = _crc_table()


def crc8_maxim(data: bytes) -> int:
    c = 0
    for b in data:
        c = _CRC[c ^ b]
    return c


def frame(token: int, ftype: int, content: bytes = b"") -> bytes:
    """Build a frame (commands, and device emulators in tests)."""
    body = SYNC + bytes([token, len(content) + 2, ftype]) + bytes(content)
    return body + bytes([crc8_maxim(body)])


GET_INFO = frame(TOKEN_INFO, 0x81)

# Battery level 0..3 (bars on the device) → percent we report; level 0 is "low".
BATTERY_PERCENT = (5.0, 33.0, 67.0, 100.0)
# Parameter-frame status bits → flags.
STATUS_FLAGS: dict[int, Flags] = {1: Flags.FINGER_OUT, 2: Flags.SEARCHING}


def _status_flags(status: int) -> Flags:
    flags = Flags.NONE
    for bit, flag in STATUS_FLAGS.items():
        if status >> bit & 1:
            flags |= flag
    return flags


def _battery(level: int) -> tuple[float, Flags]:
    level = min(level, 3)
    return BATTERY_PERCENT[level], (Flags.LOW_BATTERY if level == 0 else Flags.NONE)


def _parameters(content: bytes) -> Frame:
    if len(content) < 6:
        return Status("parameters_short", {"bytes": content.hex(" ")})
    spo2 = float(content[0])
    pr = float(content[1] | content[2] << 8)
    flags = _status_flags(content[4])
    battery, battery_flag = _battery(content[5] >> 6 & 0x03)
    invalid = bool(flags & Flags.FINGER_OUT)
    extra = None
    # 0 and 127 (SpO2), 0 and 255 (PR) are the "no value" markers; anything else beyond
    # what a body shows is dropped and named.
    rejected = [name for name, x, markers in (("spo2", spo2, (0, 127)), ("pr", pr, (0, 255)))
                if not invalid and x not in markers and (implausible_spo2(x) if name == "spo2"
                                                         else implausible_pr(x))]
    if rejected:
        extra = {"out_of_range": rejected}
    if invalid or not 0 < spo2 <= SPO2_MAX:
        spo2 = math.nan
    if invalid or not 0 < pr <= PR_MAX or pr == 255:
        pr = math.nan
    # Flags say what the device said; only a frame with no number at all and no reason
    # is marked searching (a valid SpO2 beside a missing PR stays valid).
    if math.isnan(spo2) and math.isnan(pr) and not flags:
        flags |= Flags.SEARCHING
    pi = None if math.isnan(spo2) else content[3] / 10.0
    return Reading(spo2, pr, pi, flags | battery_flag, battery=battery, extra=extra)


def _waveform(content: bytes) -> Frame:
    return Waveform(tuple(float(b & 0x7F) for b in content),
                    tuple(bool(b & 0x80) for b in content))


def _battery_frame(content: bytes) -> Frame:
    level = content[0] if content else 0
    percent, _ = _battery(level)
    return BatteryLevel(percent, level=level)


DECODERS: dict[tuple[int, int], Callable[[bytes], Frame]] = {
    (TOKEN_OXI, 0x01): _parameters,
    (TOKEN_OXI, 0x02): _waveform,
    (TOKEN_OXI, 0x21): lambda c: Status("working_status", {"bytes": c.hex(" ")}),
    (TOKEN_INFO, 0x03): _battery_frame,
}


def decode(token: int, ftype: int, content: bytes) -> Frame:
    decoder = DECODERS.get((token, ftype))
    if decoder is None:
        return Status(f"token_0x{token:02x}_type_0x{ftype:02x}", {"bytes": content.hex(" ")})
    return decoder(content)


class ViatomParser:
    """Stream-safe parser for one Viatom connection."""

    def __init__(self, cap: int = BUFFER_CAP):
        self.cap = cap
        self.skipped = 0
        self.out_of_range = 0  # numbers dropped as impossible (see frames.SPO2_MAX)
        self.bad_crc = 0
        self._tail = b""

    @property
    def pending(self) -> bytes:
        return self._tail

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._tail + bytes(data)
        out: list[Frame] = []
        pos, n, skipped = 0, len(buf), 0
        while True:
            i = buf.find(SYNC, pos)
            if i < 0:
                keep = n - 1 if n > pos and buf[-1] == 0xAA else n
                skipped += keep - pos
                pos = keep
                break
            skipped += i - pos
            pos = i
            if n - i < 4:
                break  # header not complete yet
            total = buf[i + 3] + 4
            if total < 6:
                skipped += 1
                pos = i + 1
                continue
            if n - i < total:
                break  # wait for the rest
            if crc8_maxim(buf[i:i + total - 1]) != buf[i + total - 1]:
                self.bad_crc += 1
                skipped += 1
                pos = i + 1
                continue
            found = decode(buf[i + 2], buf[i + 4], buf[i + 5:i + total - 1])
            if isinstance(found, Reading) and found.extra:
                self.out_of_range += len(found.extra.get("out_of_range", ()))
            out.append(found)
            pos = i + total
        self._tail, dropped = cap_tail(buf[pos:], self.cap)
        self.skipped += skipped + dropped
        return out


def parser() -> ViatomParser:
    return ViatomParser()
