import math
import os
import stat

import numpy as np
import pytest

from oximon.recording import RecordingError, RecordingWriter, read_recording
from oximon.types import Flags, Sample


def write(tmp_path, text: str, name: str = "rec.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_seconds_blank_and_nan_as_no_reading(tmp_path):
    rec = read_recording(write(tmp_path, "time,spo2,pr\n0,97,70\n1,,\n2,nan,NaN\n3.5,88,64\n"))
    assert rec.time.tolist() == [0, 1, 2, 3.5]
    assert rec.spo2[0] == 97 and math.isnan(rec.spo2[1]) and math.isnan(rec.spo2[2])
    assert rec.pr[3] == 64


def test_protocol_markers_127_and_255_are_no_reading(tmp_path):
    rec = read_recording(write(tmp_path, "time,spo2,pr\n0,127,255\n1,97,250\n"))
    assert math.isnan(rec.spo2[0]) and math.isnan(rec.pr[0])
    assert rec.pr[1] == 250


def test_pr_255_never_counts_as_a_pulse(tmp_path):
    from oximon.analysis import analyze
    from oximon.profile import load_profile
    n = 120
    text = "time,spo2,pr\n" + "".join(f"{i},97,255\n" for i in range(n))
    rec = read_recording(write(tmp_path, text))
    result = analyze(rec.time, rec.spo2, rec.pr, load_profile(None))
    assert not [a for a in result.alarms if a.condition == "pr_high"]
    assert load_profile(None)["validity"]["pr_max"] <= 250


def test_reads_iso_times_as_seconds_from_start_and_optional_columns(tmp_path):
    rec = read_recording(write(tmp_path, "time,spo2,pr,pi,flags\n"
                                         "2026-01-01T10:00:00,97,70,2.5,\n"
                                         "2026-01-01T10:00:02,,,,finger_out\n"))
    assert rec.time.tolist() == [0, 2]
    assert rec.pi[0] == 2.5
    assert rec.flags[1] == Flags.FINGER_OUT
    assert rec.start_wall is not None and rec.start_wall.hour == 10


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty file"),
        ("time,spo2\n0,97\n", "missing column 'pr'"),
        ("time,spo2,pr,temp\n", "unknown column 'temp'"),
        ("time,spo2,pr\n0,97,70\n1,ninety,70\n", "line 3, column 'spo2'"),
        ("time,spo2,pr\n0,97,70\n1,130,70\n", "line 3, column 'spo2': 130 is outside"),
        ("time,spo2,pr\n0,97,70\nyesterday,97,70\n", "line 3, column 'time'"),
        ("time,spo2,pr\n5,97,70\n4,97,70\n", "goes back in time"),
        ("time,spo2,pr\n0,97\n", "line 2: expected 3 cells"),
        ("time,spo2,pr,flags\n0,97,70,wet\n", "line 2, column 'flags'"),
        ("time,spo2,pr,spo2\n0,97,70,88\n", "line 1: column 'spo2' appears twice"),
        ("time,spo2,pr, PR\n0,97,70,88\n", "column 'pr' appears twice (cells 3 and 4)"),
    ],
)
def test_bad_file_names_file_line_and_column(tmp_path, text, words):
    p = write(tmp_path, text)
    with pytest.raises(RecordingError) as info:
        read_recording(p)
    assert str(p) in str(info.value) and words in str(info.value)


def test_missing_and_binary_files_are_clear_errors(tmp_path):
    with pytest.raises(RecordingError, match="no such file"):
        read_recording(tmp_path / "nope.csv")
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(RecordingError, match="not a text"):
        read_recording(p)


def test_writer_round_trips_at_one_row_per_second_and_is_private(tmp_path):
    p = tmp_path / "out.csv"
    with RecordingWriter(p) as w:
        for i in range(50):
            t = i * 0.1
            flags = Flags.FINGER_OUT if 2 <= t < 3 else Flags.NONE
            spo2 = math.nan if flags else 96.0 + (i // 10)
            w.write(Sample(t=t, spo2=spo2, pr=70.0 if not flags else math.nan, pi=1.5,
                           flags=flags))
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    rec = read_recording(p)
    assert rec.time.tolist() == [0, 1, 2, 3, 4]
    assert np.array_equal(rec.spo2, [96, 97, np.nan, 99, 100], equal_nan=True)
    assert rec.flags[2] == Flags.FINGER_OUT
