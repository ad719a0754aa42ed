"""Each number stands on its own: a valid SpO2 beside an invalid pulse rate is still a
reading (the device's own bits say "searching", not one missing number), and numbers no
body shows never come out as numbers."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.drivers import berrymed, cms50, cms50_legacy, plx, viatom
from oximon.drivers.assembler import SampleAssembler
from oximon.drivers.five_byte import FiveByteParser
from oximon.drivers.frames import Parser, Reading
from oximon.drivers.plx import PacketParser
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import load_profile
from oximon.types import Flags, Station
from tests.eventkit import feed_as_source


def v7(real: bytes) -> str:
    """A CMS50 V7 packet on the wire from its real bytes (bit 7s moved to byte 1)."""
    hi = 0x80
    for i in range(2, len(real)):
        hi |= (real[i] >> 7) << (i - 2)
    return bytes([real[0], hi] + [b | 0x80 for b in real[2:]]).hex()


# SpO2 80 with the pulse rate's "no value" marker, and no searching/finger bits set.
SPO2_80_NO_PR: dict[str, tuple[Callable[[], Parser], str]] = {
    "berrymed": (berrymed.parser, "8432457f50"),  # PR 255
    "cms50-legacy": (cms50_legacy.parser, "8432457f50"),
    "cms50": (cms50.Cms50Parser, v7(bytes([1, 0, 0x05, 0x33, 0x06, 0xFF, 80, 0xFF, 0xFF]))),
    "viatom": (viatom.parser, viatom.frame(0x0F, 0x01, bytes([80, 0xFF, 0, 0, 0, 0xC0])).hex()),
    "plx": (plx.parser, "005000ff07"),  # SpO2 80, PR SFLOAT NaN
}


def _only_reading(parser: Parser, hexdata: str) -> Reading:
    frames = parser.feed(bytes.fromhex(hexdata))
    assert len(frames) == 1 and isinstance(frames[0], Reading)
    return frames[0]


def _one_reading(factory: Callable[[], Parser], hexdata: str) -> Reading:
    return _only_reading(factory(), hexdata)


@pytest.mark.parametrize("protocol", sorted(SPO2_80_NO_PR))
def test_valid_spo2_with_invalid_pr_is_kept_without_a_searching_flag(protocol: str) -> None:
    r = _one_reading(*SPO2_80_NO_PR[protocol])
    assert r.spo2 == 80 and math.isnan(r.pr)
    assert not r.flags & (Flags.SEARCHING | Flags.FINGER_OUT)


def test_device_searching_bit_is_still_reported() -> None:
    # BerryMed byte 3 bit 5 "pulse searching" with both markers: searching, no numbers.
    r = _one_reading(berrymed.parser, "8432657f7f")
    assert r.flags & Flags.SEARCHING and math.isnan(r.spo2) and math.isnan(r.pr)


@pytest.mark.parametrize("protocol, hexdata, field", [
    ("plx", "00fd07ff0f", ("spo2", "pr")),  # SFLOAT 2045 and -1
    ("berrymed", "8432457f70", ("spo2",)),  # 7-bit SpO2 112
])
def test_numbers_no_body_shows_come_out_as_nan_and_are_counted(
        protocol: str, hexdata: str, field: tuple[str, ...]) -> None:
    parsers: dict[str, Callable[[], PacketParser | FiveByteParser]] = {
        "plx": plx.parser, "berrymed": berrymed.parser}
    p = parsers[protocol]()
    r = _only_reading(p, hexdata)
    for name in field:
        assert math.isnan(getattr(r, name))
    assert p.out_of_range == len(field)


def test_cms50_spo2_above_100_is_nan_and_counted() -> None:
    p = cms50.Cms50Parser()
    r = _only_reading(p, v7(bytes([1, 0, 0x05, 0x33, 0x06, 65, 200, 0xFF, 0xFF])))
    assert math.isnan(r.spo2) and r.pr == 65 and p.out_of_range == 1


def test_viatom_pr_beyond_physiology_is_nan_and_named() -> None:
    r = _only_reading(viatom.parser(),
                      viatom.frame(0x0F, 0x01, bytes([97, 0xE8, 0x03, 0, 0, 0xC0])).hex())
    assert r.spo2 == 97 and math.isnan(r.pr) and r.extra == {"out_of_range": ["pr"]}


def test_person_at_80_percent_with_no_pulse_rate_gets_the_high_alarm() -> None:
    """BerryMed frames at SpO2 80 % whose PR is the invalid marker, through the assembler
    and the engine: the low-oxygen alarm is raised (high), not only "no reading"."""
    clock = ManualClock()
    engine = Engine(clock, load_profile(None), AlarmManager)
    engine.add_station(Station("s1"))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    parser, asm = berrymed.parser(), SampleAssembler(pleth_rate=100.0)
    packet = bytes.fromhex("8432457f50")
    for i in range(600):  # 60 s at 10 samples a second
        t = i / 10
        clock.set(t)
        asm.push(parser.feed(packet * 10))
        sample = asm.take(t)
        if sample is not None:
            feed_as_source(engine, "s1", sample)
        engine.tick(t)
    raised = [(payload(e)["condition"], payload(e)["priority"]) for e in events
              if e.kind == "alarm" and e.state == "raised"]
    assert ("spo2_low", "high") in raised
    # the booth's one alarm took the severe condition too (issue 12: no second alarm)
    assert any(e.state == "updated" and "spo2_severe" in payload(e)["conditions"]
               for e in events if e.kind == "alarm")
    assert all(c != "no_reading" for c, _ in raised)
