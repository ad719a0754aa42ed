"""The short-integer path of `oximon.numeric_csv` (bodies without dots or minus signs, cells
of 4-8 bytes: integer times, SpO2, pulse) reads exactly what float(text) reads and marks
everything else odd, like the general path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_numeric_csv import _check  # (cell by cell against float(text))

_int = st.text(alphabet="0123456789", min_size=1, max_size=8)
_odd = st.sampled_from(["nan", " 5", "5 ", "1e5", "+5", "x", "12a4", "0x10", "é", "9/", ":9",
                        "1234567 ", "@", "~~~~~~~~", "99999999" + "9"])
_cell = st.one_of(_int, _int, _odd, st.just(""))


@settings(max_examples=400, deadline=None)
@given(cells=st.lists(_cell, min_size=3, max_size=90).map(lambda c: c[:len(c) // 3 * 3]),
       wide=st.sampled_from(["1234", "12345678", "0000", ""]))
def test_integer_bodies_read_exactly(cells, wide):
    if cells:
        _check([wide or cells[0], *cells[1:]], 3)  # (a wide first cell: the word path)


def test_hand_picked_integer_cells():
    _check(["0", "1", "86399", "00000000", "99999999", "", "12345678", "5", "x123",
            "1234", "123 ", "", "7", "80", "100"], 3)
    _check(["1234"], 1)  # (a body shorter than one word)
    _check(["1", "22", "333", "4444", "55555", "666666", "7777777", "88888888"], 1)
