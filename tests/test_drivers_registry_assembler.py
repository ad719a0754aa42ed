"""`--source ble:...` / `serial:...` specs, and frames → Samples every 0.1 s."""

from __future__ import annotations

import math

import pytest

from oximon.drivers import SourceSpecError, open_source
from oximon.drivers.assembler import SampleAssembler
from oximon.drivers.frames import BatteryLevel, Reading, Status, Waveform
from oximon.types import Flags


@pytest.mark.parametrize(("spec", "transport", "address", "protocol"), [
    ("ble:aa:bb:cc:dd:ee:ff", "ble", "AA:BB:CC:DD:EE:FF", ""),
    ("ble:AA:BB:CC:DD:EE:FF:plx-spot", "ble", "AA:BB:CC:DD:EE:FF", "plx-spot"),
    ("ble:12345678-1234-1234-1234-123456789ABC:viatom", "ble",
     "12345678-1234-1234-1234-123456789ABC", "viatom"),
    ("serial:/dev/ttyUSB0", "serial", "/dev/ttyUSB0", ""),
    ("serial:COM3:cms50-legacy", "serial", "COM3", "cms50-legacy"),
])
def test_live_specs(spec: str, transport: str, address: str, protocol: str) -> None:
    info = open_source(spec).info
    assert (info.transport, info.address, info.protocol) == (transport, address, protocol)


@pytest.mark.parametrize(("spec", "message"), [
    ("ble:", "needs an address"),
    ("ble:nearby", "not a Bluetooth address"),
    ("ble:AA:BB:CC:DD:EE:FF:cms50", "unknown BLE protocol 'cms50'"),
    ("serial:", "needs a port"),
    ("serial:/dev/ttyUSB0:berrymed", "unknown serial protocol 'berrymed'"),
])
def test_bad_live_specs(spec: str, message: str) -> None:
    with pytest.raises(SourceSpecError, match=message):
        open_source(spec)


def reading(spo2: float, p: float, flags: Flags = Flags.NONE) -> Reading:
    return Reading(spo2, 72.0, None, flags, 0.5, (p,))


def test_one_sample_per_period_with_all_pleth_points() -> None:
    a = SampleAssembler(pleth_rate=100.0)
    assert a.take(0.0) is None  # nothing yet
    a.push([reading(97, 1.0), reading(97, 2.0)])
    first = a.take(0.0)
    assert first is not None and first.pleth == (1.0, 2.0) and first.pleth_rate == 100.0
    a.push([reading(96, 3.0)])
    assert a.take(0.05) is None  # too soon: points wait for the next sample
    a.push([reading(96, 4.0), Status("x"), Waveform((5.0,))])
    s = a.take(0.1)
    assert s is not None and s.pleth == (3.0, 4.0, 5.0) and s.spo2 == 96 and s.t == 0.1


def test_battery_and_low_battery_flag_and_reset() -> None:
    a = SampleAssembler()
    a.push([BatteryLevel(8.0), reading(97, 1.0)])
    s = a.take(0.0)
    assert s is not None and s.battery == 8.0 and s.flags & Flags.LOW_BATTERY
    a.reset()
    assert math.isnan(a.spo2) and a.battery == 8.0 and a.take(1.0) is None


def test_parsers_import_neither_bleak_nor_pyserial() -> None:
    import subprocess
    import sys

    code = ("import sys, drivers.protocols, drivers.assembler, drivers.registry\n"
            "bad = [m for m in ('bleak', 'serial', 'PySide6') if m in sys.modules]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
