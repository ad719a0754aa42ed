"""Device files read by content: small hand-made byte fixtures built from the published
layouts (see oximon.device_files), never real recordings."""

from __future__ import annotations

import struct
from datetime import datetime

import numpy as np
import pytest

from oximon.device_files import parse_bytes, read_any, viatom_summary
from oximon.recording import RecordingError


def viatom(records: list[tuple[int, int, int]], duration: int, repeat: int = 1) -> bytes:
    """A Viatom .dat: 40-byte header (signature 3, 2025-03-05 22:30:12, size, duration,
    the ring's summary), then 5-byte records (SpO2, pulse, invalid, motion, vibration)."""
    body = b"".join(bytes([s, p, inv, 0, 0]) * repeat for s, p, inv in records)
    head = struct.pack("<HHBBBBBIIBBBBBHBB", 3, 2025, 3, 5, 22, 30, 12, 40 + len(body),
                       duration, 94, 87, 53, 22, 0, 396, 26, 95)
    return head + bytes(40 - len(head)) + body


def test_viatom_dat_by_content_with_its_summary(tmp_path):
    data = viatom([(97, 60, 0), (96, 61, 0), (0xFF, 0xFF, 0xFF), (88, 70, 0)], duration=16)
    p = tmp_path / "20250305223012"  # the ring names its files by start time
    p.write_bytes(data)
    rec = read_any(p)
    assert rec.source_format == "Viatom/Wellue .dat"
    assert rec.time.tolist() == [0.0, 4.0, 8.0, 12.0]  # 16 s over 4 records
    assert np.array_equal(rec.spo2, [97, 96, np.nan, 88], equal_nan=True)
    assert np.array_equal(rec.pr, [60, 61, np.nan, 70], equal_nan=True)
    assert rec.start_wall == datetime(2025, 3, 5, 22, 30, 12)
    assert viatom_summary(data) == {"duration_s": 16, "mean_spo2": 94, "lowest_spo2": 87,
                                    "drops_3": 53, "drops_4": 22, "below_90_s": 396,
                                    "events_below_90": 26}


def test_viatom_two_second_files_repeat_each_record():
    data = viatom([(97, 60, 0), (95, 62, 0), (93, 64, 0)], duration=12, repeat=2)
    rec = parse_bytes(__import__("pathlib").Path("x.dat"), data)
    assert rec.spo2.tolist() == [97, 95, 93] and rec.time.tolist() == [0.0, 4.0, 8.0]


def test_vihealth_csv_export(tmp_path):
    p = tmp_path / "O2Ring 0009_1696377606000.csv"
    p.write_text("Time,Oxygen Level,Pulse Rate,Motion,O2 Reminder,PR Reminder\n"
                 "23:59:56 Aug 03 2026,96,62,0,0,0\n"
                 "00:00:00 Aug 04 2026,--,--,3,0,0\n"
                 "00:00:04 Aug 04 2026,89,66,0,0,0\n")
    rec = read_any(p)
    assert rec.source_format == "ViHealth CSV"
    assert rec.time.tolist() == [0.0, 4.0, 8.0]  # across midnight
    assert np.array_equal(rec.spo2, [96, np.nan, 89], equal_nan=True)
    assert rec.start_wall == datetime(2026, 8, 3, 23, 59, 56)


@pytest.mark.parametrize("stamps", [["21:34:53 16/07/2026", "21:34:54 16/07/2026"],
                                    ['"10:09:39 PM Mar 5, 2025"', '"10:09:40 PM Mar 5, 2025"']])
def test_vihealth_time_layouts(tmp_path, stamps):
    p = tmp_path / "v.csv"
    p.write_text("Time,SpO2(%),Pulse Rate(bpm),Motion\n"
                 + "".join(f"{s},95,60,0\n" for s in stamps))
    assert read_any(p).time.tolist() == [0.0, 1.0]


def test_vihealth_bad_cell_names_line_and_column(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("Time,Oxygen Level,Pulse Rate,Motion\n18:02:48 Aug 03 2026,96,62,0\n"
                 "18:02:52 Aug 03 2026,high,62,0\n")
    with pytest.raises(RecordingError, match=r"line 3, column 'Oxygen Level'"):
        read_any(p)


def test_cms50_spor_spo2_review(tmp_path):
    # u16 data offset (64), then at byte 8 the start as UTF-16LE "MM/dd/yy HH:mm:ss";
    # records are (pulse, SpO2), one a second; 127/255 = no reading.
    head = bytearray(64)
    struct.pack_into("<HHH", head, 0, 64, 2, 3)
    head[8:8 + 34] = "03/05/25 22:30:12".encode("utf-16-le")
    body = bytes([60, 97, 61, 96, 255, 127, 70, 88])
    p = tmp_path / "night.spoR"
    p.write_bytes(bytes(head) + body)
    rec = read_any(p)
    assert rec.source_format.startswith("CMS50 .spo/.spoR")
    assert np.array_equal(rec.spo2, [97, 96, np.nan, 88], equal_nan=True)
    assert np.array_equal(rec.pr, [60, 61, np.nan, 70], equal_nan=True)
    assert rec.time.tolist() == [0, 1, 2, 3]
    assert rec.start_wall == datetime(2025, 3, 5, 22, 30, 12)


def test_cms50_spo2_assistant_four_byte_records(tmp_path):
    pos = 16
    data = bytearray(pos + 228)
    struct.pack_into("<H", data, 0, pos)
    data[pos] = 1
    struct.pack_into("<7I", data, pos + 200, 2024, 11, 2, 23, 5, 0, 3)
    for s, p in ((95, 58), (127, 255), (84, 90)):
        data += struct.pack("<HBB", 0, s, p)
    f = tmp_path / "x.spo2"
    f.write_bytes(bytes(data))
    rec = read_any(f)
    assert np.array_equal(rec.spo2, [95, np.nan, 84], equal_nan=True)
    assert np.array_equal(rec.pr, [58, np.nan, 90], equal_nan=True)
    assert rec.start_wall == datetime(2024, 11, 2, 23, 5, 0)


def test_unknown_binary_is_a_clear_error(tmp_path):
    p = tmp_path / "x.dat"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(RecordingError, match="not a recording oximon can read"):
        read_any(p)


def test_oximon_csv_still_reads_through_the_detector(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("time,spo2,pr\n0,97,70\n1,96,71\n")
    assert read_any(p).source_format == "oximon CSV"
