"""The byte-level number parser (`oximon.numeric_csv`) gives exactly float(text) for every
cell it accepts, accepts every plain number, and hands anything else back."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oximon import numeric_csv

PLAIN = re.compile(r"-?(\d+\.?\d*|\.\d+)")

_digits = st.text(alphabet="0123456789", min_size=0, max_size=17)
_plain = st.builds(lambda sign, a, dot, b: sign + a + dot + b, st.sampled_from(["", "-"]),
                   _digits, st.sampled_from(["", "."]), _digits)
_odd = st.sampled_from(["nan", " 5", "5 ", "1e5", "+5", "-", ".", "-.", "--1", "1-", "1.2.3",
                        "inf", "0x10", "9" * 16, "1" * 15 + ".5", "é"])
_cell = st.one_of(_plain, _odd, st.just(""))


def _check(cells: list[str], k: int) -> None:
    body = "\n".join(",".join(cells[i:i + k]) for i in range(0, len(cells), k)).encode()
    got = numeric_csv.parse(body, k)
    if any(ord(ch) >= 128 for ch in "".join(cells)):
        assert got is None
        return
    assert got is not None
    flat = got.values.ravel()
    odd = set(got.odd.tolist())
    for i, c in enumerate(cells):
        digits = sum(ch.isdigit() for ch in c)
        if c == "":
            assert np.isnan(flat[i]) and i not in odd
        elif PLAIN.fullmatch(c) and digits <= 15:
            assert i not in odd, c
            want = float(c)
            assert flat[i] == want and np.signbit(flat[i]) == np.signbit(want), c
        else:
            assert i in odd and np.isnan(flat[i]), c


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(_cell, min_size=3, max_size=60).map(lambda c: c[:len(c) // 3 * 3]))
def test_every_accepted_cell_is_exactly_float_of_its_text(cells):
    if cells:
        _check(cells, 3)


def test_hand_picked_cells():
    _check(["0", "-0", ".5", "5.", "007", "100", "97.5", "86399.999", "-12.25",
            "123456789012345", "0.1", "0.30000000000000004"[:17], "1" * 15, "", "nan", "-"],
           4)


def test_lines_with_another_number_of_cells_or_empty_lines_are_refused():
    assert numeric_csv.parse(b"1,2,3\n4,5\n", 3) is None
    assert numeric_csv.parse(b"1,2,3\n\n4,5,6\n", 3) is None
    assert numeric_csv.parse(b"1,2,3\n4,5,6,7\n", 3) is None
    ok = numeric_csv.parse(b"1,2,3\n4,5,6", 3)  # (no newline at the end)
    assert ok is not None and ok.values.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_the_words_column_is_left_alone():
    got = numeric_csv.parse(b"1,96,finger_out\n2,97,\n", 3, words=2)
    assert got is not None and not got.odd.size
    assert got.values[:, :2].tolist() == [[1, 96], [2, 97]]
    assert got.starts[2::3].tolist() == [5, 21] and got.ends[2::3].tolist() == [15, 21]
