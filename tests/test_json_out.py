"""`oximon.json_out.dumps` writes exactly what `json.dumps(..., ensure_ascii=False)` does."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oximon.json_out import dumps

_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
                  st.floats(allow_nan=True, allow_infinity=True))
_data = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=8), inner, max_size=5)), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_data)
def test_the_text_is_jsons(obj):
    assert dumps(obj) == json.dumps(obj, ensure_ascii=False)


def test_hand_picked_values():
    obj: dict[str, Any] = {
        "é\n\"\\\u2028\x00": [0.1, -0.0, 1e300, 5e-324, math.nan, -math.inf, 2**70, True],
        "n": None, "t": ("a", {})}
    assert dumps(obj) == json.dumps(obj, ensure_ascii=False)


def test_what_it_does_not_write_itself_is_left_to_json():
    others: list[Any] = [{1: "a", "b": 2}, {"x": {1.5: None}}, {"k": frozenset()}]
    for obj in others:
        try:
            want = json.dumps(obj, ensure_ascii=False)
        except TypeError:
            continue
        assert dumps(obj) == want


def test_an_unserialisable_value_raises_as_json_does():
    import pytest

    with pytest.raises(TypeError):
        dumps({"k": object()})
