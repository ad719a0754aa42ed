"""Time below 90 % / 85 %: one definition (oximon.time_below) for the store, review and
analysis."""

from __future__ import annotations

import math

from oximon import time_below as below
from oximon.pipeline.settings import Q
from oximon.pipeline.vector import CT_LIMITS
from oximon.store.query import trace_stats

NAN = math.nan


def test_valid_readings_strictly_below_count_and_gaps_never_do() -> None:
    ts = [0.0, 1.0, 2.0, 3.0, 10.0, 11.0]
    spo2 = [91.0, 89.0, 90.0, NAN, 84.0, 88.0]
    assert below.time_below(ts, spo2, below.LOW) == 3.0  # 89 (1 s), 84 and 88: capped
    assert below.time_below(ts, spo2, below.SEVERE) == 1.0
    assert below.time_below([], [], below.LOW) == 0.0


def test_the_store_counts_its_1_hz_rows_by_the_same_definition() -> None:
    rows = [(0.0, 89.0), (0.98, 80.0), (2.0, None), (3.0, 95.0)]
    stats = trace_stats(rows)
    assert stats["below90_s"] == 2.0 and stats["below85_s"] == 1.0  # a row is 1 s
    assert stats["nadir"] == 80.0 and stats["nadir_ts"] == 0.98


def test_analysis_limits_come_from_the_same_place() -> None:
    assert CT_LIMITS == (90 * Q, 85 * Q) == below.limits_in(Q)  # q < limit: strictly below
    assert below.LIMITS == (90.0, 85.0)
