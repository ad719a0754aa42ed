"""BLE transport end to end through the real `BleakClient` with a fake backend: protocol
choice from GATT services, notify vs indicate, battery, link drops and silent links
(reconnect; the engine sees lost → streaming), and no Bluetooth at all."""

from __future__ import annotations

import asyncio
import itertools
import math
import random

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.drivers import berrymed, plx, viatom
from oximon.drivers.backoff import POLICIES, Backoff, ErrorClass
from oximon.drivers.ble import NO_BLUETOOTH, BleSource, classify
from oximon.drivers.protocols import BATTERY_LEVEL, BATTERY_SERVICE, guess_ble
from oximon.engine import Engine
from oximon.events import EngineEvent
from oximon.profile import load_profile
from oximon.types import DeviceState, Sample, StateChange, Station
from tests.fake_bleak import (
    FakeBackend,
    FakeChar,
    FakePeripheral,
    load_notifications,
    peripherals,
)

ADDR = "C0:FF:EE:00:00:01"


def berrymed_device(clock: ManualClock, **kw) -> FakePeripheral:
    return FakePeripheral(
        ADDR, "BerryMed", {berrymed.SERVICE: [FakeChar(berrymed.NOTIFY, ["notify"]),
                                              FakeChar(berrymed.WRITE, ["write"])]},
        berrymed.NOTIFY, load_notifications("berrymed_notifications.hex"), clock, **kw)


def run_engine(source: BleSource, clock: ManualClock, seconds: float
               ) -> tuple[Engine, list[EngineEvent], list[Sample]]:
    engine = Engine(clock, load_profile(None), AlarmManager)
    engine.add_station(Station("ble-1"), source)
    events: list[EngineEvent] = []
    samples: list[Sample] = []
    engine.subscribe(events.append)
    engine.subscribe_samples(lambda _sid, s: samples.append(s))

    async def drive() -> None:
        task = asyncio.create_task(engine.run(duration=seconds))
        while not task.done():
            await clock.advance(0.02)
        await task

    asyncio.run(drive())
    return engine, events, samples


def device_states(events: list[EngineEvent]) -> list[str]:
    return [e.state for e in events if e.kind == "device"]


def collect(source: BleSource, clock: ManualClock, seconds: float) -> list:
    out: list = []

    async def drive() -> None:
        async def pump() -> None:
            async for ev in source.events(clock):
                out.append(ev)
        task = asyncio.create_task(pump())
        for _ in range(int(seconds / 0.02)):
            await clock.advance(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(drive())
    return out


def test_berrymed_drops_mid_stream_and_engine_sees_lost_then_streaming() -> None:
    clock = ManualClock()
    device = berrymed_device(clock, drop_after=[75])  # 3 s into the first connection
    with peripherals(device):
        source = BleSource(ADDR, backend=FakeBackend, rng=random.Random(1))
        engine, events, samples = run_engine(source, clock, 12.0)
    states = device_states(events)
    # Finger out for the first second, then numbers; the link drops; it comes back.
    assert states[:3] == ["connecting", "no_signal", "streaming"]
    lost = states.index("lost")
    assert states[lost + 1] == "reconnecting"
    assert "streaming" in states[lost + 2:]
    assert device.connections == 2
    assert engine.stations["ble-1"].state is DeviceState.STREAMING
    assert engine.stations["ble-1"].spo2 in (96.0, 97.0)
    # About ten samples a second, each carrying the 100 Hz pleth points since the last.
    streaming = [s for s in samples if s.valid]
    gaps = [b.t - a.t for a, b in itertools.pairwise(samples)]
    assert 0.095 <= sorted(gaps)[len(gaps) // 2] <= 0.125
    assert all(s.pleth_rate == 100.0 for s in streaming)
    assert 8 <= sum(len(s.pleth) for s in streaming) / len(streaming) <= 12
    assert all(s.signal == 0.75 and s.pr == 72 for s in streaming)
    # Finger-out samples carry no numbers and say why.
    out = [s for s in samples if not s.valid]
    assert out and all(math.isnan(s.spo2) and "finger_out" in s.flags.names() for s in out)


def test_silent_link_trips_the_watchdog_and_reconnects() -> None:
    clock = ManualClock()
    device = berrymed_device(clock, silent_after=[50])  # talks 2 s, then nothing
    with peripherals(device):
        source = BleSource(ADDR, backend=FakeBackend, rng=random.Random(2))
        events = collect(source, clock, 12.0)
    changes = [e for e in events if isinstance(e, StateChange)]
    lost = next(c for c in changes if c.state is DeviceState.LOST)
    assert "no data for 5 s" in lost.detail
    last_sample = max(e.t for e in events if isinstance(e, Sample) and e.t < lost.t)
    assert 5.0 <= lost.t - last_sample <= 5.6
    assert device.connections == 2
    assert any(c.state is DeviceState.STREAMING and c.t > lost.t for c in changes)


def plx_spot_record(spo2: int, pr: int) -> bytes:
    return bytes([0x00]) + spo2.to_bytes(2, "little") + pr.to_bytes(2, "little")


def test_plx_spot_check_is_indicated_and_battery_service_read() -> None:
    clock = ManualClock()
    device = FakePeripheral(
        ADDR, "Pulse Oximeter",
        {plx.SERVICE: [FakeChar(plx.SPOT_CHECK, ["indicate"]), FakeChar(plx.FEATURES, ["read"])],
         BATTERY_SERVICE: [FakeChar(BATTERY_LEVEL, ["read", "notify"], bytes([87]))]},
        plx.SPOT_CHECK, [plx_spot_record(97, 64), plx_spot_record(96, 66)], clock,
        interval=1.0)
    with peripherals(device):
        events = collect(BleSource(ADDR, backend=FakeBackend), clock, 4.5)
    assert (plx.SPOT_CHECK, "indicate") in device.subscribed
    assert (BATTERY_LEVEL, "notify") in device.subscribed
    samples = [e for e in events if isinstance(e, Sample)]
    assert [(s.spo2, s.pr) for s in samples] == [(97, 64), (96, 66), (97, 64), (96, 66)]
    assert all(s.battery == 87 and s.pleth == () for s in samples)


def test_plx_continuous_preferred_over_spot_check() -> None:
    clock = ManualClock()
    device = FakePeripheral(
        ADDR, "Nonin 3150",
        {plx.SERVICE: [FakeChar(plx.CONTINUOUS, ["notify"]), FakeChar(plx.SPOT_CHECK,
                                                                      ["indicate"])]},
        plx.CONTINUOUS, [bytes.fromhex("1c5f005a00200000000057f0")], clock, interval=0.5)
    with peripherals(device):
        events = collect(BleSource(ADDR, backend=FakeBackend), clock, 2.0)
    assert device.subscribed == [(plx.CONTINUOUS, "notify")]
    s = next(e for e in events if isinstance(e, Sample))
    assert (s.spo2, s.pr, s.pi) == (95, 90, 8.7)


def test_viatom_frames_across_notifications_with_battery_frame() -> None:
    stream = (viatom.frame(0x0F, 0x02, bytes([49, 48, 46, 45, 44])) * 3
              + bytes.fromhex("aa550f08016144000000c094")
              + viatom.frame(0xF0, 0x03, bytes([0])))  # battery now at level 0
    notes = [stream[i:i + 20] for i in range(0, len(stream), 20)]
    clock = ManualClock()
    device = FakePeripheral(ADDR, "PC-60FW", {viatom.SERVICE: [
        FakeChar(viatom.NOTIFY, ["notify"]), FakeChar(viatom.WRITE, ["write"])]},
        viatom.NOTIFY, notes, clock, interval=0.05)
    with peripherals(device):
        events = collect(BleSource(ADDR, backend=FakeBackend), clock, 2.0)
    samples = [e for e in events if isinstance(e, Sample)]
    assert samples and samples[0].spo2 == 97 and samples[0].pr == 68
    assert {49.0, 44.0} <= set(p for s in samples for p in s.pleth)
    assert samples[-1].battery == viatom.BATTERY_PERCENT[0]
    assert "low_battery" in samples[-1].flags.names()


def test_unknown_device_and_wrong_forced_protocol_are_reported() -> None:
    clock = ManualClock()
    device = FakePeripheral(ADDR, "Heart strap", {BATTERY_SERVICE: [
        FakeChar(BATTERY_LEVEL, ["read"], b"\x50")]}, BATTERY_LEVEL, [], clock)
    with peripherals(device):
        events = collect(BleSource(ADDR, backend=FakeBackend), clock, 1.0)
    searching = [e for e in events if isinstance(e, StateChange)
                 and e.state is DeviceState.SEARCHING]
    assert "no pulse-oximeter service oximon knows" in searching[0].detail
    with peripherals(berrymed_device(clock)):
        events = collect(BleSource(ADDR, "viatom", backend=FakeBackend), clock, 1.0)
    assert any("no viatom characteristic" in e.detail for e in events
               if isinstance(e, StateChange))


@pytest.mark.parametrize("error", [
    FileNotFoundError(2, "No such file or directory"),
    BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["bluez not running"]),
    BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
    BleakError("No Bluetooth adapters found."),
    BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF),
])
def test_no_bluetooth_is_one_clear_state_not_a_traceback(error: Exception) -> None:
    clock = ManualClock()
    device = berrymed_device(clock, connect_errors=[error] * 5)
    with peripherals(device):
        source = BleSource(ADDR, backend=FakeBackend, rng=random.Random(3))
        events = collect(source, clock, 40.0)
    changes = [e for e in events if isinstance(e, StateChange)]
    assert changes[0].state is DeviceState.CONNECTING
    failures = [c for c in changes if c.state is DeviceState.SEARCHING]
    assert failures and all(c.detail.startswith("Bluetooth is not available on this computer")
                            for c in failures)
    assert len({c.detail for c in failures}) == 1  # one message, however many retries
    # Retried slowly: the first retry is ~15 s later, not in a tight loop.
    assert len(failures) <= 3
    assert failures[1].t - failures[0].t >= POLICIES[ErrorClass.UNAVAILABLE].first * 0.8


def test_error_classes() -> None:
    assert classify(BleakDeviceNotFoundError(ADDR), ADDR).kind is ErrorClass.NOT_FOUND
    assert classify(TimeoutError()).kind is ErrorClass.NOT_FOUND
    assert classify(BleakDBusError("org.bluez.Error.InProgress", [])).kind is ErrorClass.BUSY
    assert classify(BleakError("le-connection-abort-by-local")).kind is ErrorClass.BUSY
    assert classify(FileNotFoundError()).message == NO_BLUETOOTH.format(why="no system D-Bus")


def test_backoff_grows_is_capped_and_jittered() -> None:
    b = Backoff(random.Random(0))
    delays = [b.next_delay(ErrorClass.NOT_FOUND) for _ in range(10)]
    policy = POLICIES[ErrorClass.NOT_FOUND]
    assert policy.first * 0.8 <= delays[0] <= policy.first * 1.2
    assert delays[3] > delays[0] * 3
    assert max(delays) <= policy.cap and delays[-1] >= policy.cap * 0.6
    assert len(set(delays)) == len(delays)  # jittered
    b.reset()
    assert b.next_delay(ErrorClass.DROPPED) <= POLICIES[ErrorClass.DROPPED].first * 1.2


def _guessed(services: list[str], name: str | None = None, chars: list[str] | None = None,
             ) -> str | None:
    spec = guess_ble(services, name, chars or [])
    return None if spec is None else spec.name


def test_guess_protocol_from_services_and_names() -> None:
    assert _guessed([berrymed.SERVICE]) == "berrymed"
    assert _guessed([], "BerryMed") == "berrymed"  # service not advertised
    assert _guessed([viatom.SERVICE], "PC-60FW") == "viatom"
    assert _guessed([plx.SERVICE], "", [plx.SPOT_CHECK]) == "plx-spot"
    assert _guessed([plx.SERVICE], "", [plx.SPOT_CHECK, plx.CONTINUOUS]) == "plx"
    assert _guessed([plx.SERVICE]) == "plx"  # advertised only: continuous first
    assert guess_ble([BATTERY_SERVICE], "Fitness band") is None
