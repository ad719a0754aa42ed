"""The 5-byte live packet shared by BerryMed BCI (BLE) and the legacy Contec CMS50 (serial).

Sync rule: byte 1 has bit 7 set, bytes 2–5 have it clear; there is no checksum. Because a
frame's last four bytes can never start a frame, valid frames never overlap, so "scan,
take a frame, else drop one byte" finds exactly the positions where the rule holds. That
lets numpy find every frame of a long capture at once (one hour of 100 Hz BerryMed, 1.8
MB, in a few tens of milliseconds) while staying byte-for-byte the same as a scanner.

The two devices differ only in what some bits mean, so each is a `FiveByteModel` table
(bit → flag, invalid markers), not a branch in the code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

from oximon.drivers.frames import BUFFER_CAP, SPO2_MAX, Frame, Reading, cap_tail
from oximon.types import Flags

FRAME_LEN = 5
NAN = math.nan

# The five flag bits, in the order they make a table index:
# byte 1 bits 4, 5, 6 then byte 3 bits 4, 5.
FLAG_BITS = ("b1.4", "b1.5", "b1.6", "b3.4", "b3.5")


@dataclass(frozen=True)
class FiveByteModel:
    """What one device family's bits mean."""

    name: str
    bit_flags: dict[str, Flags]  # FLAG_BITS entry → flag it raises
    invalid_spo2: frozenset[int] = frozenset({0, 127})
    invalid_pr: frozenset[int] = frozenset({0, 255})
    invalid_pleth: frozenset[int] = frozenset()
    signal_full_scale: int = 8  # raw signal strength that means "1.0"
    pleth_rate: float = 100.0
    flag_table: tuple[Flags, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = []
        for key in range(1 << len(FLAG_BITS)):
            flags = Flags.NONE
            for i, bit in enumerate(FLAG_BITS):
                if key >> i & 1:
                    flags |= self.bit_flags.get(bit, Flags.NONE)
            table.append(flags)
        object.__setattr__(self, "flag_table", tuple(table))


@dataclass
class Columns:
    """Every field of a run of packets as numpy arrays (raw, before cleaning)."""

    signal: np.ndarray
    flag_key: np.ndarray
    pleth: np.ndarray
    bargraph: np.ndarray
    pr: np.ndarray
    spo2: np.ndarray

    def __len__(self) -> int:
        return len(self.spo2)


def find_frames(a: np.ndarray) -> np.ndarray:
    """Start offsets of every valid packet in `a` (uint8)."""
    n = len(a)
    if n < FRAME_LEN:
        return np.empty(0, dtype=np.intp)
    hi = a >= 0x80
    m = n - FRAME_LEN + 1
    ok = hi[:m].copy()
    for k in range(1, FRAME_LEN):
        ok &= ~hi[k:k + m]
    return np.flatnonzero(ok)


def columns(a: np.ndarray, starts: np.ndarray) -> Columns:
    b0, b1, b2, b3, b4 = (a[starts + k] for k in range(FRAME_LEN))
    return Columns(
        signal=b0 & 0x0F,
        flag_key=((b0 >> 4) & 0x07) | (((b2 >> 4) & 0x03) << 3),
        pleth=b1 & 0x7F,
        bargraph=b2 & 0x0F,
        pr=(b3 & 0x7F).astype(np.int16) | ((b2 & 0x40).astype(np.int16) << 1),
        spo2=b4 & 0x7F,
    )


def _tail_start(a: np.ndarray, after: int) -> int:
    """Where the kept tail starts: the one position that could still begin a frame."""
    n = len(a)
    for p in range(max(after, n - FRAME_LEN + 1), n):
        if a[p] >= 0x80 and not (a[p + 1:n] >= 0x80).any():
            return p
    return n


class FiveByteParser:
    """Stream-safe parser for one connection of a 5-byte device."""

    def __init__(self, model: FiveByteModel, cap: int = BUFFER_CAP):
        self.model = model
        self.cap = cap
        self.skipped = 0
        self.out_of_range = 0  # SpO2 values above 100 dropped as impossible
        self._tail = b""
        self._invalid_spo2 = np.array(sorted(model.invalid_spo2), dtype=np.uint8)
        self._invalid_pr = np.array(sorted(model.invalid_pr), dtype=np.int16)
        self._invalid_pleth = np.array(sorted(model.invalid_pleth), dtype=np.uint8)
        self._flag_ints = np.array([int(f) for f in model.flag_table], dtype=np.int64)

    @property
    def pending(self) -> bytes:
        return self._tail

    def feed_columns(self, data: bytes) -> Columns:
        """Like `feed`, but returns the raw fields as arrays (for bulk decoding)."""
        buf = self._tail + bytes(data)
        a = np.frombuffer(buf, dtype=np.uint8)
        starts = find_frames(a)
        end = int(starts[-1]) + FRAME_LEN if len(starts) else 0
        tail_at = _tail_start(a, end)
        self._tail, _ = cap_tail(buf[tail_at:], self.cap)
        # Everything neither framed nor kept was dropped (capped-off bytes included).
        self.skipped += len(buf) - len(self._tail) - FRAME_LEN * len(starts)
        return columns(a, starts)

    def feed(self, data: bytes) -> list[Frame]:
        return self.readings(self.feed_columns(data))

    def readings(self, cols: Columns) -> list[Frame]:
        """Clean readings from raw columns: markers → NaN, bits → flags, via tables."""
        if not len(cols):
            return []
        m = self.model
        spo2 = cols.spo2.astype(np.float64)
        pr = cols.pr.astype(np.float64)
        flags_int = self._flag_ints[cols.flag_key]
        finger_out = (flags_int & int(Flags.FINGER_OUT)) != 0
        marker_spo2 = np.isin(cols.spo2, self._invalid_spo2)
        impossible = ~marker_spo2 & (cols.spo2 > SPO2_MAX)  # 7 bits reach 126
        self.out_of_range += int(np.count_nonzero(impossible & ~finger_out))
        bad_spo2 = marker_spo2 | impossible | finger_out
        bad_pr = np.isin(cols.pr, self._invalid_pr) | finger_out  # 8 bits: 254 at most
        spo2[bad_spo2] = NAN
        pr[bad_pr] = NAN
        # Flags are the device's own bits; only a packet with neither number and no
        # reason is marked searching. A valid SpO2 beside an invalid PR stays valid.
        reason = int(Flags.FINGER_OUT | Flags.SEARCHING | Flags.LOW_SIGNAL)
        unexplained = (bad_spo2 & bad_pr) & ((flags_int & reason) == 0)
        flags_int[unexplained] |= int(Flags.SEARCHING)
        signal = np.minimum(cols.signal / m.signal_full_scale, 1.0)
        # Objects come from lookup tables indexed by numpy, not built one by one: one
        # hour at 100 Hz is 360 000 readings.
        flag_objs = _FLAG_OBJECTS[flags_int].tolist()
        pleth_key = cols.pleth.astype(np.intp)
        if len(self._invalid_pleth):
            pleth_key[np.isin(cols.pleth, self._invalid_pleth)] = _PLETH_NAN
        pleth_objs = _PLETH_TUPLES[pleth_key].tolist()
        return list(map(Reading, spo2.tolist(), pr.tolist(), repeat(None, len(spo2)),
                        flag_objs, signal.tolist(), pleth_objs))


def _object_table(items: Sequence[object]) -> np.ndarray:
    table = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):  # element-wise: numpy would unpack the tuples
        table[i] = item
    return table


_FLAG_OBJECTS = _object_table([Flags(v) for v in range(sum(f.value for f in Flags) + 1)])
_PLETH_NAN = 128
_PLETH_TUPLES = _object_table([(float(v),) for v in range(128)] + [(NAN,)])
