"""Contec CMS50 "V7.0" protocol over USB serial (CMS50D+ fw 4.6+, CMS50E/F/FW/I) — `cms50`.

Every packet: a type byte (bit 7 clear), a "high bits" byte (bit 7 set), then data bytes
with bit 7 set on the wire whose real bit 7 is kept in the high-bits byte. There is no
length field (the type fixes it) and no checksum. As with the 5-byte protocol, a frame's
bytes after the first all have bit 7 set, so frames never overlap and numpy can find them
all at once with the same result as a byte-by-byte scanner.

The host must send `A7`, `A2`, `A1` to start the live stream, then `AF` about every 5 s or
the device stops streaming (the serial transport does that).
"""

from __future__ import annotations

import math

import numpy as np

from oximon.drivers.frames import BUFFER_CAP, SPO2_MAX, Frame, Reading, Status, cap_tail
from oximon.types import Flags

BAUD = 115200
BYTESIZE = 8
PARITY = "N"
STOPBITS = 1
PLETH_RATE = 60.0
KEEPALIVE_S = 5.0

# Packet length by type (V7.0 document); a type not here is not a packet start.
TYPE_LEN: dict[int, int] = {
    0x01: 9, 0x02: 9, 0x03: 9, 0x04: 9, 0x05: 9, 0x06: 4, 0x07: 8, 0x08: 8, 0x09: 6,
    0x0A: 4, 0x0B: 4, 0x0C: 2, 0x0D: 3, 0x0E: 3, 0x0F: 8, 0x10: 3, 0x11: 9, 0x12: 8,
    0x13: 9, 0x14: 9, 0x15: 9,
}
LIVE = 0x01
_LEN = np.zeros(256, dtype=np.intp)
for _t, _n in TYPE_LEN.items():
    _LEN[_t] = _n

# Commands (the byte after 7D 81, bit 7 set).
START_LIVE, STOP_LIVE, STOP_STORAGE, DEVICE_ID, KEEPALIVE = 0xA1, 0xA2, 0xA7, 0xAA, 0xAF
START_SEQUENCE = (STOP_STORAGE, STOP_LIVE, START_LIVE)


def command(code: int) -> bytes:
    """The 9-byte command packet `7D 81 cc 80 80 80 80 80 80`."""
    return bytes([0x7D, 0x81, code | 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80])


def parse_command(packet: bytes) -> int | None:
    """The command code of a 9-byte command packet, else None (for device emulators)."""
    if len(packet) == 9 and packet[:2] == b"\x7d\x81" and packet[3:] == b"\x80" * 6:
        return packet[2]
    return None


# Live-packet status bits (restored bytes) → flags: (byte index, bit) → flag.
LIVE_BIT_FLAGS: dict[tuple[int, int], Flags] = {
    (2, 4): Flags.SEARCHING,  # searching too long
    (2, 7): Flags.FINGER_OUT,  # probe error / finger out
    (3, 7): Flags.SEARCHING,  # searching for pulse
}
_KEY_BITS = tuple(LIVE_BIT_FLAGS)
_FLAG_TABLE = np.zeros(1 << len(_KEY_BITS), dtype=np.int64)
for _key in range(len(_FLAG_TABLE)):
    for _i, _bit in enumerate(_KEY_BITS):
        if _key >> _i & 1:
            _FLAG_TABLE[_key] |= int(LIVE_BIT_FLAGS[_bit])
_FLAGS = {v: Flags(v) for v in range(sum(f.value for f in Flags) + 1)}
SIGNAL_FULL_SCALE = 8


def restore(packet: bytes) -> bytes:
    """Put each data byte's real bit 7 back from the high-bits byte."""
    if len(packet) < 2:
        return bytes(packet)
    hi = packet[1]
    out = bytearray(packet)
    for i in range(2, len(packet)):
        out[i] = (packet[i] & 0x7F) | (((hi >> (i - 2)) & 1) << 7)
    return bytes(out)


def find_frames(a: np.ndarray) -> np.ndarray:
    """Start offsets of every complete packet in `a` (uint8)."""
    n = len(a)
    if n < 2:
        return np.empty(0, dtype=np.intp)
    length = _LEN[a]
    hi = a >= 0x80
    # run[j]: how many bytes from j on have bit 7 set, computed from the next low byte.
    idx = np.arange(n)
    next_lo = np.where(~hi, idx, n)
    next_lo = np.minimum.accumulate(next_lo[::-1])[::-1]
    run_after = np.empty(n, dtype=np.intp)
    run_after[:-1] = next_lo[1:] - idx[:-1] - 1
    run_after[-1] = 0
    ok = (length > 0) & (run_after >= length - 1) & (idx + length <= n)
    return np.flatnonzero(ok)


def _tail_start(a: np.ndarray, after: int) -> int:
    """Where the kept tail starts: a known type followed only by high bytes, too short."""
    n = len(a)
    for p in range(after, n):
        t = int(a[p])
        if TYPE_LEN.get(t, 0) > n - p and bool((a[p + 1:n] >= 0x80).all()):
            return p
    return n


class Cms50Parser:
    """Stream-safe parser for one CMS50 V7 serial connection."""

    def __init__(self, cap: int = BUFFER_CAP):
        self.cap = cap
        self.skipped = 0
        self.out_of_range = 0  # SpO2 values above 100 dropped as impossible
        self._tail = b""

    @property
    def pending(self) -> bytes:
        return self._tail

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._tail + bytes(data)
        a = np.frombuffer(buf, dtype=np.uint8)
        starts = find_frames(a)
        types = a[starts]
        lengths = _LEN[types]
        end = int(starts[-1] + lengths[-1]) if len(starts) else 0
        # Only look for a tail after the last frame and within the last 8 bytes.
        self._tail, _ = cap_tail(buf[_tail_start(a, max(end, len(buf) - 8)):], self.cap)
        self.skipped += len(buf) - len(self._tail) - int(lengths.sum())
        live = types == LIVE
        found = _live_readings(a, starts[live])
        self.out_of_range += found.out_of_range
        readings = iter(found)
        out: list[Frame] = []
        if live.all():
            return list(readings)
        for s, t, n in zip(starts.tolist(), types.tolist(), lengths.tolist(), strict=True):
            out.append(next(readings) if t == LIVE else _other(restore(buf[s:s + n])))
        return out


class _Live(list[Reading]):
    out_of_range = 0


def _live_readings(a: np.ndarray, starts: np.ndarray) -> _Live:
    if not len(starts):
        return _Live()
    hi = a[starts + 1]
    r = [((a[starts + k] & 0x7F) | (((hi >> (k - 2)) & 1) << 7)) for k in range(2, 9)]
    r2, r3, r4, r5, r6, r7, r8 = (x.astype(np.int64) for x in r)
    key = ((r2 >> 4) & 1) | (((r2 >> 7) & 1) << 1) | (((r3 >> 7) & 1) << 2)
    flags = _FLAG_TABLE[key]
    finger_out = (flags & int(Flags.FINGER_OUT)) != 0
    spo2 = r6.astype(np.float64)
    pr = r5.astype(np.float64)
    marker = (r6 == 0x7F) | (r6 == 0)
    impossible = ~marker & (r6 > SPO2_MAX)  # the restored byte reaches 255
    bad_spo2 = marker | impossible | finger_out
    bad_pr = (r5 == 0xFF) | (r5 == 0) | finger_out
    spo2[bad_spo2] = math.nan
    pr[bad_pr] = math.nan
    # The device's own bits only; a packet with neither number and no reason is marked
    # searching, but a valid SpO2 beside an invalid PR stays valid.
    reason = int(Flags.FINGER_OUT | Flags.SEARCHING | Flags.LOW_SIGNAL)
    flags[(bad_spo2 & bad_pr) & ((flags & reason) == 0)] |= int(Flags.SEARCHING)
    pi_raw = r7 | (r8 << 8)
    pi_ok = ((r4 & 0x10) == 0) & (pi_raw != 0xFFFF) & ~bad_spo2
    pi = np.where(pi_ok, pi_raw / 100.0, np.nan)
    signal = np.minimum((r2 & 0x0F) / SIGNAL_FULL_SCALE, 1.0)
    pleth = (r3 & 0x7F).astype(np.float64)
    out = _Live(
        Reading(s, p, None if q != q else q, _FLAGS[f], g, (w,))
        for s, p, q, f, g, w in zip(spo2.tolist(), pr.tolist(), pi.tolist(), flags.tolist(),
                                    signal.tolist(), pleth.tolist(), strict=True))
    out.out_of_range = int(np.count_nonzero(impossible & ~finger_out))
    return out


def _other(real: bytes) -> Status:
    """Packets other than live data, decoded where the layout is known."""
    t = real[0]
    data = real[2:]
    if t == 0x04:
        return Status("device_id", {"device_id": data.decode("ascii", "replace")})
    if t == 0x0C:
        return Status("live_stopped", {})
    if t == 0x0F:  # stored data: three (SpO2, PR) pairs
        return Status("storage", {"points": [
            {"spo2": data[i], "pr": data[i + 1]} for i in range(0, len(data) - 1, 2)]})
    if t == 0x09:  # stored data with PI: SpO2, PR, PI × 100 (low, high)
        return Status("storage", {"points": [
            {"spo2": data[0], "pr": data[1], "pi": (data[2] | data[3] << 8) / 100.0}]})
    return Status(f"packet_0x{t:02x}", {"bytes": real.hex(" ")})
