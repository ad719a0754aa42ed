"""BerryMed "BCI" BLE oximeters (BM1000 family and many white-label units) — `berrymed`.

5-byte packets at 100 Hz, usually four per notification, free to straddle notifications;
see `five_byte` for the framing. The service is not advertised, so scans match by name.
"""

from __future__ import annotations

from oximon.drivers.five_byte import FiveByteModel, FiveByteParser
from oximon.types import Flags

SERVICE = "49535343-fe7d-4ae5-8fa9-9fafd205e455"
NOTIFY = "49535343-1e4d-4bd9-ba61-23c647249616"
WRITE = "49535343-8841-43f4-a8d4-ecbe34729bb3"
NAME_HINTS = ("berrymed", "bm1000", "bci")

MODEL = FiveByteModel(
    name="berrymed",
    bit_flags={
        "b1.4": Flags.LOW_SIGNAL,  # "no signal"
        "b1.5": Flags.FINGER_OUT,  # probe unplugged
        # b1.6 is the pulse beep: no flag
        "b3.4": Flags.FINGER_OUT,  # no finger
        "b3.5": Flags.SEARCHING,  # pulse searching
    },
    invalid_spo2=frozenset({0, 127}),
    invalid_pr=frozenset({0, 255}),
    invalid_pleth=frozenset({0}),  # "0 invalid" per BCI v1.2
    signal_full_scale=8,
    pleth_rate=100.0,
)


def parser() -> FiveByteParser:
    return FiveByteParser(MODEL)
