"""Older Contec CMS50D+/E over USB serial (the pre-V7 protocol) — `cms50-legacy`.

19200 baud, 8 data bits, odd parity, 1 stop bit. The device streams by itself; `F6 F6 F6`
forces live mode. Live packets have BerryMed's 5-byte layout (see `five_byte`), with a
few bits meaning other things — hence a table of its own.
"""

from __future__ import annotations

from oximon.drivers.five_byte import FiveByteModel, FiveByteParser
from oximon.types import Flags

BAUD = 19200
BYTESIZE = 8
PARITY = "O"
STOPBITS = 1
LIVE_MODE = bytes([0xF6, 0xF6, 0xF6])

MODEL = FiveByteModel(
    name="cms50-legacy",
    bit_flags={
        "b1.4": Flags.FINGER_OUT,  # finger out
        # b1.5 "SpO2 dropping" and b1.6 pulse beep raise no flag
        "b3.4": Flags.FINGER_OUT,  # probe error
        "b3.5": Flags.SEARCHING,  # searching for pulse
    },
    invalid_spo2=frozenset({0, 127}),
    invalid_pr=frozenset({0, 255}),
    signal_full_scale=8,
    pleth_rate=60.0,
)


def parser() -> FiveByteParser:
    return FiveByteParser(MODEL)
