"""Every example in protocol_vectors.json, decoded by our parsers.

tests/data/protocol_vectors.json is a copy of shared/protocol_vectors.json (CI has no
shared/). The last test fails if a vector of a new protocol appears without a check here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from oximon.drivers import berrymed, cms50, cms50_legacy, plx, plx_spot, viatom
from oximon.drivers.frames import BatteryLevel, Reading, Status, Waveform
from oximon.types import Flags

VECTORS = json.loads((Path(__file__).parent / "data" / "protocol_vectors.json").read_text())
NOT_YET = {"viatom_o2ring_request", "nonin_continuous_oximetry_0AAD7EA0", "jumper_cdeacb81"}


def vectors(protocol: str) -> list[dict]:
    found = [v for v in VECTORS if v["protocol"] == protocol]
    assert found, protocol
    return found


def ids(protocol: str) -> list[str]:
    return [v["hex"] for v in vectors(protocol)]


def _none_or_nan(expected: object, actual: float) -> None:
    if expected in (None, "NaN"):
        assert math.isnan(actual)
    else:
        assert actual == pytest.approx(expected)


# --- PLX ------------------------------------------------------------------------------
@pytest.mark.parametrize("v", vectors("plx_continuous_0x2A5F"), ids=ids("plx_continuous_0x2A5F"))
def test_plx_continuous(v: dict) -> None:
    frames = plx.parser().feed(bytes.fromhex(v["hex"]))
    assert len(frames) == 1
    r = frames[0]
    assert isinstance(r, Reading)
    d = v["decoded"]
    _none_or_nan(d["spo2"], r.spo2)
    _none_or_nan(d["pr"], r.pr)
    extra = r.extra or {}
    for key in ("measurement_status", "device_sensor_status"):
        if key in d:
            assert extra[key] == d[key]
    if "pai" in d:
        assert r.pi == pytest.approx(d["pai"])
    if d["spo2"] == "NaN":
        assert r.flags & Flags.SEARCHING  # a NaN never goes without a reason


def test_plx_sensor_displaced_is_low_signal_not_invalid() -> None:
    r = plx.parse_continuous(bytes.fromhex("0c620048000000002000"))
    assert r is not None and r.spo2 == 98 and r.flags == Flags.LOW_SIGNAL


@pytest.mark.parametrize("v", vectors("plx_features_0x2A60"), ids=ids("plx_features_0x2A60"))
def test_plx_features(v: dict) -> None:
    status = plx.parse_features(bytes.fromhex(v["hex"]))
    assert isinstance(status, Status)
    assert status.fields == v["decoded"]


@pytest.mark.parametrize("v", vectors("ieee11073_sfloat"), ids=ids("ieee11073_sfloat"))
def test_sfloat(v: dict) -> None:
    raw = int.from_bytes(bytes.fromhex(v["hex"]), "little")
    assert raw == int(v["decoded"]["raw_uint16"], 16)
    value = v["decoded"]["value"]
    if isinstance(value, str):
        assert math.isnan(plx.sfloat(raw))
        assert plx.sfloat_special(raw) == value
    else:
        assert plx.sfloat(raw) == pytest.approx(value)
        assert plx.sfloat_special(raw) is None


def test_plx_spot_check_with_timestamp_and_status() -> None:
    # flags: timestamp, measurement status, device status, PAI, clock not set.
    packet = bytes.fromhex("1f" "6100" "4800" "ea07" "0b" "1a" "0e" "05" "09" "0020"
                           "000000" "57f0")
    r = plx_spot.parse_spot_check(packet)
    assert r is not None
    assert math.isnan(r.spo2) and math.isnan(r.pr)  # measurement status bit 13: unavailable
    assert r.flags == Flags.SEARCHING
    assert r.extra == {"timestamp": "2026-11-26T14:05:09", "measurement_status": 0x2000,
                       "device_sensor_status": 0, "device_clock_not_set": True}
    ok = plx_spot.parse_spot_check(bytes.fromhex("006100e8f3"))
    assert ok is not None and (ok.spo2, ok.pr) == (97, 100)


def test_plx_short_packet_rejected_whole() -> None:
    p = plx.parser()
    assert p.feed(bytes.fromhex("1c5f005a00")) == []  # flags promise 8 more bytes
    assert p.skipped == 5
    assert plx_spot.parser().feed(b"\x01\x62\x00\x48\x00\xea") == []


# --- BerryMed and legacy CMS50 ----------------------------------------------------------
def _five_byte_checks(parser_factory, v: dict, *, model_flags: dict[str, Flags]) -> None:
    p = parser_factory()
    cols = p.feed_columns(bytes.fromhex(v["hex"]))
    assert len(cols) == 1
    d = v["decoded"]
    assert int(cols.signal[0]) == d.get("signal_strength", int(cols.signal[0]))
    assert int(cols.pleth[0]) == d.get("pleth", int(cols.pleth[0]))
    assert int(cols.bargraph[0]) == d.get("bargraph", int(cols.bargraph[0]))
    assert int(cols.pr[0]) == d.get("pulse_rate_raw", d.get("pulse_rate", int(cols.pr[0])))
    assert int(cols.spo2[0]) == d.get("spo2_raw", d.get("spo2", int(cols.spo2[0])))
    (r,) = parser_factory().feed(bytes.fromhex(v["hex"]))
    expected = Flags.NONE
    for key, flag in model_flags.items():
        if d.get(key):
            expected |= flag
    assert r.flags & expected == expected
    spo2 = d.get("spo2")
    if spo2 in (None, 0) or r.flags & Flags.FINGER_OUT:
        assert math.isnan(r.spo2)
    else:
        assert r.spo2 == spo2
    if math.isnan(r.spo2) and math.isnan(r.pr):  # no number at all: never without a reason
        assert r.flags & (Flags.FINGER_OUT | Flags.SEARCHING | Flags.LOW_SIGNAL)


BERRY_FLAGS = {"no_finger": Flags.FINGER_OUT, "probe_unplugged": Flags.FINGER_OUT,
               "pulse_searching": Flags.SEARCHING, "no_signal": Flags.LOW_SIGNAL}


@pytest.mark.parametrize("v", vectors("berrymed_bci_ble"), ids=ids("berrymed_bci_ble"))
def test_berrymed(v: dict) -> None:
    _five_byte_checks(berrymed.parser, v, model_flags=BERRY_FLAGS)


def test_berrymed_invalid_markers_never_reach_numbers() -> None:
    (r,) = berrymed.parser().feed(bytes.fromhex("b000507f7f"))
    assert isinstance(r, Reading)
    assert math.isnan(r.spo2) and math.isnan(r.pr)
    assert math.isnan(r.pleth[0])  # pleth 0 is "invalid" in BCI
    assert r.signal == 0.0


def test_berrymed_stream_vector() -> None:
    (v,) = vectors("berrymed_bci_ble_stream")
    p = berrymed.parser()
    frames = p.feed(bytes.fromhex(v["hex"]))
    assert all(isinstance(f, Reading) for f in frames)
    assert [(f.spo2, f.pr, f.pleth) for f in frames if isinstance(f, Reading)] == [
        (pk["spo2"], pk["pulse_rate"], (float(pk["pleth"]),)) for pk in v["decoded"]["packets"]]
    assert p.pending.hex() == v["decoded"]["leftover"]
    assert p.skipped == 2


LEGACY_FLAGS = {"finger_out (atbrask: byte1 bit4)": Flags.FINGER_OUT,
                "probe_error (atbrask: byte3 bit4)": Flags.FINGER_OUT}


@pytest.mark.parametrize("v", vectors("contec_cms50_legacy_5byte"),
                         ids=ids("contec_cms50_legacy_5byte"))
def test_cms50_legacy(v: dict) -> None:
    _five_byte_checks(cms50_legacy.parser, v, model_flags=LEGACY_FLAGS)


def test_cms50_legacy_pr_200_with_spo2_zero() -> None:
    (r,) = cms50_legacy.parser().feed(bytes.fromhex("8000404800"))
    assert isinstance(r, Reading)
    # The device set no searching bit: one missing number is not "searching".
    assert r.pr == 200 and math.isnan(r.spo2) and r.flags == Flags.NONE


def test_cms50_legacy_recorded_trio_is_not_live_data() -> None:
    (v,) = vectors("contec_cms50_legacy_recorded_trio")
    p = cms50_legacy.parser()
    assert p.feed(bytes.fromhex(v["hex"])) == []


# --- CMS50 V7 -----------------------------------------------------------------------------
@pytest.mark.parametrize("v", vectors("contec_cms50_v7_realtime_0x01"),
                         ids=ids("contec_cms50_v7_realtime_0x01"))
def test_cms50_live(v: dict) -> None:
    raw = bytes.fromhex(v["hex"])
    d = v["decoded"]
    assert cms50.restore(raw) == bytes.fromhex(d["restored_bytes"])
    (r,) = cms50.Cms50Parser().feed(raw)
    assert isinstance(r, Reading)
    _none_or_nan(d["spo2"], r.spo2)
    _none_or_nan(d["pulse_rate"], r.pr)
    assert r.pleth == (float(d["pleth"]),)
    assert r.signal == d["signal_strength"] / cms50.SIGNAL_FULL_SCALE
    assert r.pi == (None if d["pi_percent"] is None else pytest.approx(d["pi_percent"]))
    assert bool(r.flags & Flags.FINGER_OUT) == d["probe_error"]
    assert bool(r.flags & Flags.SEARCHING) == (d["searching_pulse"] or (
        d["spo2"] is None and d["pulse_rate"] is None and not d["probe_error"]))


@pytest.mark.parametrize("v", vectors("contec_cms50_v7_command"),
                         ids=ids("contec_cms50_v7_command"))
def test_cms50_commands(v: dict) -> None:
    raw = bytes.fromhex(v["hex"])
    code = int(v["decoded"]["command"][:4], 16)
    assert cms50.command(code) == raw
    assert cms50.parse_command(raw) == code


def test_cms50_storage_and_device_id() -> None:
    (s,) = cms50.Cms50Parser().feed(bytes.fromhex("0f80dec2dec2dec2"))
    assert s == Status("storage", {"points": [
        {"spo2": p["spo2"], "pr": p["pulse_rate"]}
        for p in vectors("contec_cms50_v7_storage_0x0F")[0]["decoded"]["samples"]]})
    (v,) = vectors("contec_cms50_v7_storage_0x09")
    (s,) = cms50.Cms50Parser().feed(bytes.fromhex(v["hex"]))
    d = v["decoded"]
    assert s == Status("storage", {"points": [
        {"spo2": d["spo2"], "pr": d["pulse_rate"], "pi": d["pi_percent"]}]})
    (v,) = vectors("contec_cms50_v7_device_id_0x04")
    (s,) = cms50.Cms50Parser().feed(bytes.fromhex(v["hex"]))
    assert s == Status("device_id", {"device_id": v["decoded"]["device_id"]})


# --- Viatom --------------------------------------------------------------------------------
def test_viatom_parameters() -> None:
    v = vectors("viatom_pc60fw_ble")[0]
    (r,) = viatom.parser().feed(bytes.fromhex(v["hex"]))
    d = v["decoded"]
    assert isinstance(r, Reading)
    assert (r.spo2, r.pr, r.pi) == (d["spo2"], d["pulse_rate"], d["pi_percent"])
    assert r.battery == viatom.BATTERY_PERCENT[d["battery_level"]]
    assert r.flags == Flags.NONE


def test_viatom_waveform_and_battery_frame() -> None:
    wave_v, batt_v = vectors("viatom_pc60fw_ble")[1:3]
    (w,) = viatom.parser().feed(bytes.fromhex(wave_v["hex"]))
    assert w == Waveform(tuple(map(float, wave_v["decoded"]["wave"])),
                         tuple(wave_v["decoded"]["beat_marker"]))
    (b,) = viatom.parser().feed(bytes.fromhex(batt_v["hex"]))
    assert b == BatteryLevel(100.0, level=3)


def test_viatom_probe_off_and_low_battery() -> None:
    frame = viatom.frame(0x0F, 0x01, bytes([0, 0, 0, 0, 0b10, 0x00]))
    (r,) = viatom.parser().feed(frame)
    assert isinstance(r, Reading)
    assert math.isnan(r.spo2) and math.isnan(r.pr) and r.pi is None
    assert r.flags == Flags.FINGER_OUT | Flags.LOW_BATTERY


@pytest.mark.parametrize("v", vectors("viatom_pc60fw_ble_command"),
                         ids=ids("viatom_pc60fw_ble_command"))
def test_viatom_commands_crc(v: dict) -> None:
    raw = bytes.fromhex(v["hex"])
    assert viatom.frame(raw[2], raw[4], raw[5:-1]) == raw
    assert viatom.crc8_maxim(raw[:-1]) == raw[-1]


def test_every_vector_protocol_is_checked() -> None:
    here = Path(__file__).read_text()
    for protocol in {v["protocol"] for v in VECTORS} - NOT_YET:
        assert f'"{protocol}"' in here, protocol
