"""Serial transport end to end over pseudo-terminals with emulated CMS50 devices (V7 and
legacy): port settings, start sequence, keep-alives, unplug → lost → reconnect, and
protocol auto-detection. Intervals are shortened (keep-alive 0.15 s, watchdog 0.5 s,
retries 0.1 s) so each test takes about a second of real time."""

from __future__ import annotations

import asyncio
import errno
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import serial

from oximon.alerts import AlarmManager
from oximon.clock import ScaledClock
from oximon.drivers import cms50
from oximon.drivers.backoff import Backoff, ErrorClass, Policy
from oximon.drivers.serial_port import SerialSource, classify, list_oximeter_ports
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import load_profile
from oximon.types import Sample, Station
from tests.fake_serial import EmulatedCms50

FAST = {kind: Policy(0.1, 0.3) for kind in ErrorClass}


def source(link: Path, protocol: str | None = "cms50", keepalive_s: float = 0.15
           ) -> SerialSource:
    return SerialSource(str(link), protocol, keepalive_s=keepalive_s, watchdog_s=0.5,
                        read_timeout=0.02, backoff=Backoff(policies=FAST))


def run(src: SerialSource, seconds: float, during=None
        ) -> tuple[Engine, list[EngineEvent], list[Sample]]:
    clock = ScaledClock()
    engine = Engine(clock, load_profile(None), AlarmManager)
    engine.add_station(Station("serial-1"), src)
    events: list[EngineEvent] = []
    samples: list[Sample] = []
    engine.subscribe(events.append)
    engine.subscribe_samples(lambda _sid, s: samples.append(s))

    async def main() -> None:
        task = asyncio.create_task(engine.run(duration=seconds))
        if during is not None:
            await during()
        await task

    asyncio.run(main())
    return engine, events, samples


def states(events: list[EngineEvent]) -> list[str]:
    return [e.state for e in events if e.kind == "device"]


def test_v7_start_sequence_keepalives_and_readings(tmp_path: Path) -> None:
    link = tmp_path / "ttyCMS50"
    with EmulatedCms50(link, keepalive_timeout=0.4) as device:
        _engine, events, samples = run(source(link), 1.5)
    assert device.commands[:3] == [cms50.STOP_STORAGE, cms50.STOP_LIVE, cms50.START_LIVE]
    assert device.commands[3:].count(cms50.KEEPALIVE) >= 5
    assert device.stops == 0  # keep-alives kept it streaming longer than its timeout
    assert states(events)[:2] == ["connecting", "streaming"]
    valid = [s for s in samples if s.valid]
    assert valid[-1].t - valid[0].t > 1.0
    assert {(s.spo2, s.pr, s.pi) for s in valid} == {(98.0, 72.0, 1.23)}
    assert all(s.pleth_rate == cms50.PLETH_RATE and set(s.pleth) == {80.0} for s in valid)


def test_v7_without_keepalives_stops_and_the_watchdog_restarts_it(tmp_path: Path) -> None:
    link = tmp_path / "ttyCMS50"
    with EmulatedCms50(link, keepalive_timeout=0.3) as device:
        _, events, _ = run(source(link, keepalive_s=60.0), 2.2)
    assert device.stops >= 1
    assert device.commands.count(cms50.START_LIVE) >= 2  # the reconnect started it again
    s = states(events)
    lost = s.index("lost")
    assert "no data for 0.5 s" in payload(next(e for e in events if e.state == "lost"))["detail"]
    assert s[lost + 1] == "reconnecting" and "streaming" in s[lost + 2:]


def test_unplug_is_lost_and_replug_reconnects(tmp_path: Path) -> None:
    link = tmp_path / "ttyCMS50"
    device = EmulatedCms50(link, keepalive_timeout=1.0)
    device.plug()

    async def cable() -> None:
        await asyncio.sleep(0.6)
        device.unplug()
        await asyncio.sleep(0.5)
        device.plug()

    try:
        engine, events, samples = run(source(link), 2.0, cable)
    finally:
        device.unplug()
    s = states(events)
    lost = s.index("lost")
    assert s[:2] == ["connecting", "streaming"]
    assert s[lost + 1] == "reconnecting" and s[-1] == "streaming"
    assert engine.stations["serial-1"].spo2 == 98.0
    lost_t = next(e.t for e in events if e.state == "lost")
    assert any(x.t > lost_t + 0.4 and x.valid for x in samples)


def test_legacy_device_19200_8o1(tmp_path: Path) -> None:
    link = tmp_path / "ttyCMS50D"
    with EmulatedCms50(link, legacy=True) as device:
        _, events, samples = run(source(link, "cms50-legacy"), 0.8)
    assert device.sent_packets > 10
    assert device.raw_in.startswith(b"\xf6\xf6\xf6")
    assert states(events)[:2] == ["connecting", "streaming"]
    assert {(s.spo2, s.pr) for s in samples if s.valid} == {(95.0, 72.0)}


def test_protocol_detected_when_not_given(tmp_path: Path) -> None:
    link = tmp_path / "ttyCMS50D"
    with EmulatedCms50(link, legacy=True):
        src = source(link, None)
        _, _events, samples = run(src, 2.0)
    assert src.confirmed is not None and src.confirmed.name == "cms50-legacy"
    assert any(s.valid and s.spo2 == 95.0 for s in samples)


def test_auto_detection_raises_no_lost_device_while_trying_v7(tmp_path: Path) -> None:
    """A legacy CMS50 ignores the V7 start: that silent attempt is still "looking for the
    device", never a device that was connected and got lost."""
    link = tmp_path / "ttyCMS50D"
    with EmulatedCms50(link, legacy=True):
        src = source(link, None)
        _, events, samples = run(src, 2.0)
    assert src.confirmed is not None and src.confirmed.name == "cms50-legacy"
    s = states(events)
    assert "lost" not in s and "reconnecting" not in s
    assert s[0] == "connecting" and s[-1] == "streaming"
    assert s.index("streaming") == len(s) - 1  # nothing said "streaming" before it was
    searching = next(e for e in events if e.state == "searching")
    assert "no Contec CMS50 (V7.0 protocol) readings" in payload(searching)["detail"]
    assert "trying Contec CMS50 (legacy protocol)" in payload(searching)["detail"]
    raised = [payload(e)["condition"] for e in events if e.kind == "alarm" and e.state == "raised"]
    assert "lost_device" not in raised
    assert any(s.valid for s in samples)


def test_missing_port_keeps_searching_with_a_plain_message(tmp_path: Path) -> None:
    start = time.monotonic()
    _, events, _ = run(source(tmp_path / "nothing-here"), 0.5)
    assert time.monotonic() - start < 2
    searching = [e for e in events if e.state == "searching"]
    assert searching and "not found (unplugged?)" in payload(searching[0])["detail"]


def test_error_messages() -> None:
    assert classify(serial.SerialException(errno.EACCES, "Permission denied"), "/dev/ttyUSB0"
                    ).kind is ErrorClass.UNAVAILABLE
    assert "dialout" in classify(PermissionError(errno.EACCES, "x"), "p").message
    assert classify(serial.SerialException("read failed: [Errno 5] EIO"), "p"
                    ).kind is ErrorClass.NOT_FOUND


def test_lists_only_cp210x_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    ports = [SimpleNamespace(device="/dev/ttyUSB0", description="CP2102 USB to UART",
                             serial_number="0001", vid=0x10C4, pid=0xEA60),
             SimpleNamespace(device="/dev/ttyACM0", description="Arduino", serial_number=None,
                             vid=0x2341, pid=0x0043),
             SimpleNamespace(device="/dev/ttyS0", description="n/a", serial_number=None,
                             vid=None, pid=None)]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    assert [p.device for p in list_oximeter_ports()] == ["/dev/ttyUSB0"]
