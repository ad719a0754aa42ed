"""The vectorised CSV reader gives exactly what the row-by-row reader gives."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oximon.recording import _parse, _parse_fast

_cell = st.one_of(st.integers(0, 100).map(str), st.sampled_from(["", "nan", " 97", "127",
                                                                 "NA", "-", "88.5"]))
_pr = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["", "255", "NaN"]))
_flag = st.sampled_from(["", "finger_out", "low_battery|motion", "searching"])


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.floats(0, 5), _cell, _pr, _flag), max_size=40),
       blank=st.booleans(), crlf=st.booleans())
def test_fast_and_exact_readers_agree(rows, blank, crlf):
    t = np.cumsum([r[0] for r in rows])
    lines = ["time,spo2,pr,flags"] + [f"{t[i]:g},{r[1]},{r[2]},{r[3]}"
                                      for i, r in enumerate(rows)]
    if blank and lines:
        lines.insert(len(lines) // 2 + 1, "")
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    fast = _parse_fast(Path("f.csv"), text)
    assert fast is not None
    _same_as_exact(fast, text)


def _same_as_exact(fast, text: str) -> None:
    exact = _parse(Path("f.csv"), io.StringIO(text, newline=""))
    for a, b in ((fast.time, exact.time), (fast.spo2, exact.spo2), (fast.pr, exact.pr),
                 (fast.pi, exact.pi)):
        assert np.array_equal(a, b, equal_nan=True)
    assert fast.flags == exact.flags
    assert fast.flag_codes is not None and exact.flag_codes is not None
    assert np.array_equal(fast.flag_codes, exact.flag_codes)


def test_anything_doubtful_goes_to_the_exact_reader():
    for text in ("time,spo2,pr\n0,97,70\n1,abc,70\n", "time,spo2,pr\n0,97\n",
                 "time,spo2,pr\n5,97,70\n4,97,70\n", "time,spo2,pr\n0,130,70\n",
                 "time,spo2,pr\n2026-01-01T10:00:00,97,70\n", "time,spo2,pr\ninf,97,70\n",
                 'time,spo2,pr\n0,"97",70\n', "time,spo2,pr,flags\n0,97,70,wet\n"):
        assert _parse_fast(Path("f.csv"), text) is None, text


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.floats(0, 5), st.one_of(st.integers(0, 100).map(str),
                                                          st.sampled_from(["", "127", "88.5"])),
                               st.one_of(st.integers(0, 300).map(str), st.just("")),
                               st.sampled_from(["", "1.25", "0.3", "20"]), _flag),
                     min_size=1, max_size=40),
       crlf=st.booleans())
def test_the_byte_reader_tier_agrees_with_the_exact_reader(rows, crlf):
    """Plain numbers (with decimals, the pi column, CRLF): the byte-level tier reads them
    itself, and gives exactly what the row-by-row reader gives."""
    from oximon.recording import _header, _parse_numbers

    t = np.cumsum([r[0] for r in rows]) - 2.0  # (negative times too)
    lines = ["time,spo2,pr,pi,flags"] + [f"{t[i]:.3f},{r[1]},{r[2]},{r[3]},{r[4]}"
                                         for i, r in enumerate(rows)]
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    names = _header(text)
    assert names is not None
    fast = _parse_numbers(Path("f.csv"), text, names)
    assert fast is not None
    _same_as_exact(fast, text)
