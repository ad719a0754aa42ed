"""Batch analysis of a whole recording: oximetry metrics, desaturation events, and the
alarms the live engine would have raised.

`analyze()` runs the *same* rules as the live `StationPipeline` (validity, artifact
rejection, averaging, level rules, time rules), vectorised and proven identical by tests,
so a supervisor's report and the alarms people heard agree to the sample. Every time axis
takes one fast path, `oximon.pipeline.grid` (a device's regular grid, or receive-time
jitter: windows as row offsets, `oximon.pipeline.axis`); `_analyze` here is the plain
reference implementation (windows by binary search) that the tests hold the fast path to,
and reads records too short to window. Both report the same `Findings` in exact integers,
turned into the result by `_result`. Pure numpy: no I/O.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import numpy as np

from oximon.codes import Flags, Priority
from oximon.pipeline import grid, scratch, vector
from oximon.pipeline.settings import INVALID_FLAGS, MS, T_LIMIT_S, Q, Settings
from oximon.pipeline.vector import Findings, Spans, push
from oximon.profile import Profile, load_profile


class Event(NamedTuple):
    """A desaturation: SpO2 at least `events.points` below the baseline. (A named tuple:
    a day's analysis builds hundreds, made in C by `_records` at a fraction of the cost
    of a dataclass's __init__.)"""

    kind: str
    start_s: float
    end_s: float
    nadir: float
    baseline: float
    depth: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start_s": self.start_s, "end_s": self.end_s,
                "nadir": self.nadir, "baseline": self.baseline, "depth": self.depth}


class AlarmSpan(NamedTuple):
    """An alarm condition as the live engine would have raised and cleared it."""

    condition: str
    priority: Priority
    raised_s: float
    cleared_s: float | None  # None: still active when the record ended

    def to_dict(self) -> dict[str, Any]:
        return {"condition": self.condition, "priority": self.priority.label,
                "raised_s": self.raised_s, "cleared_s": self.cleared_s}


class AnalysisResult:
    """What `analyze` found. (A plain class, not a dataclass: `dataclasses` brings
    `inspect` and its imports, ~5 ms of every `oximon analyze`.)"""

    __slots__ = ("alarms", "averaging_delay_s", "duration_s", "events", "metrics", "note",
                 "valid_s")

    def __init__(self, duration_s: float, valid_s: float, metrics: dict[str, float | None],
                 events: list[Event] | None = None, alarms: list[AlarmSpan] | None = None,
                 averaging_delay_s: float = 0.0, note: str | None = None):
        self.duration_s = duration_s
        self.valid_s = valid_s
        self.metrics = metrics
        self.events: list[Event] = [] if events is None else events
        self.alarms: list[AlarmSpan] = [] if alarms is None else alarms
        self.averaging_delay_s = averaging_delay_s  # not in the JSON: the human summary's
        # Why `alarms` is empty although the rules were not run (a recording too sparse for
        # the live rules), else None.
        self.note = note

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _RESULT_FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnalysisResult):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # (mutable, like the dataclass it was)

    def __repr__(self) -> str:
        return "AnalysisResult(" + ", ".join(
            f"{name}={value!r}" for name, value in zip(_RESULT_FIELDS, self._fields(),
                                                       strict=True)) + ")"

    def to_dict(self) -> dict[str, Any]:
        """Exactly the `oximon analyze --json` object of DESIGN.md."""
        return {"duration_s": self.duration_s, "valid_s": self.valid_s,
                "metrics": dict(self.metrics),
                "events": [e.to_dict() for e in self.events],
                "alarms": [a.to_dict() for a in self.alarms],
                "note": self.note}


_RESULT_FIELDS = ("duration_s", "valid_s", "metrics", "events", "alarms",
                  "averaging_delay_s", "note")
_METRICS = ("odi3", "odi4", "ct90", "ct85", "nadir", "mean_spo2", "hypoxic_burden")


def analyze(time_s: Any, spo2: Any, pr: Any, profile: Profile | None = None, *,
            flags: Any = None, judge_cadence: bool = True) -> AnalysisResult:
    """Analyse one recording. Arrays of equal length; NaN = no valid value. `flags` (ints
    of `oximon.types.Flags`, optional) marks finger-out/searching rows and battery.
    `judge_cadence=False` simulates the live rules even on a recording too sparse for them
    (for tests that compare the rules themselves; users get the note instead)."""
    s = _settings(profile or load_profile(None))
    t_all = np.asarray(time_s, dtype=float).ravel()
    n_all = t_all.size
    sp_all = np.asarray(spo2, dtype=float).ravel()
    pr_all = np.asarray(pr, dtype=float).ravel()
    if sp_all.size != n_all or pr_all.size != n_all:
        raise ValueError(f"time_s, spo2 and pr must have the same length "
                         f"({n_all}, {sp_all.size}, {pr_all.size})")
    fl_all = None if flags is None else np.asarray(flags, dtype=np.int64).ravel()
    if fl_all is not None and fl_all.size != n_all:
        raise ValueError(f"flags must have the same length as time_s ({n_all}, {fl_all.size})")
    with np.errstate(all="ignore"):
        s, note = _cadence(s, t_all) if judge_cadence else (s, None)
        keep = None if grid.in_order(t_all) else vector.keep_rows(t_all, T_LIMIT_S)
        if keep is None or keep.all():
            t, sp, pr, fl = t_all, sp_all, pr_all, fl_all
        else:  # rows without a usable time, or going back: the live pipeline skips them
            t, sp, pr = t_all[keep], sp_all[keep], pr_all[keep]
            fl = None if fl_all is None else fl_all[keep]
        if t.size >= 2:
            found = grid.analyze_rows(s, t, sp, pr, fl)
        else:  # (nothing to window)
            found = _analyze(s, t, sp, pr, np.zeros(t.size, dtype=np.int64)
                             if fl is None else fl)
        scratch.release_if_large()
        return _result(s, found, note)


# The last profile analysed with and its Settings (a profile is read-only: `Profile`).
_last_settings: tuple[Profile, Settings] | None = None


def _settings(profile: Profile) -> Settings:
    """The profile's Settings, kept for the next call with the same profile (a batch of
    records analysed with one profile: ~10 µs each otherwise)."""
    global _last_settings
    last = _last_settings
    if last is not None and last[0] is profile:
        return last[1]
    s = Settings.from_profile(profile)
    _last_settings = (profile, s)
    return s


def _cadence(s: Settings, t: np.ndarray) -> tuple[Settings, str | None]:
    """A recording whose usual spacing is longer than the live rules can judge (one reading
    a minute: every interval would be "stale" and every reading a new episode) gets its
    metrics, a note, and no simulated alarms. Its readings then stand for their own usual
    spacing (not the live max_gap), so valid time and the per-hour rates stay right."""
    limit = min(s.gap_ms, s.stale_ms)  # a live rule judges readings at most this far apart
    n = t.size
    if n < 2:
        return s, None
    span = float(t[-1] - t[0])
    # More than half the spacings above the limit means a mean above half of it: a cheap
    # test that settles nearly every recording without the median.
    if math.isfinite(span) and 0 <= span * MS < (n - 1) * limit / 2:
        return s, None
    tk = t[vector.keep_rows(t, T_LIMIT_S)]
    if tk.size < 2:
        return s, None
    step_ms = round(float(np.median(np.diff(tk))) * MS)
    if step_ms <= s.gap_ms and step_ms < s.stale_ms:
        return s, None
    note = (f"one reading every {step_ms / MS:g} s: too sparse for the live alarm rules "
            f"(no data after {s.stale_s:g} s is 'stale', a gap over "
            f"{s.gap_ms / MS:g} s starts a new episode), so no alarms are simulated; "
            f"the metrics count each reading for up to {step_ms / MS:g} s")
    return s._replace(gap_ms=max(s.gap_ms, step_ms)), note


def _analyze(s: Settings, t_all: np.ndarray, sp_all: np.ndarray, pr_all: np.ndarray,
             fl_all: np.ndarray) -> Findings:
    """The reference implementation (any time axis, rows out of order; windows by binary
    search): the fast path is tested against it, and it reads records of under 2 rows."""
    keep = vector.keep_rows(t_all, T_LIMIT_S)
    if not keep.all():
        t, sp, pr, fl = t_all[keep], sp_all[keep], pr_all[keep], fl_all[keep]
    else:
        t, sp, pr, fl = t_all, sp_all, pr_all, fl_all
    n = t.size
    if n == 0:
        return Findings()
    tq = np.rint(t * MS).astype(np.int64)
    grid_ = vector.Grid(tq)
    bad = (fl & INVALID_FLAGS) != 0
    spo2_min = s.spo2_min_q / Q
    valid = ~bad & (sp >= spo2_min) & (sp <= 100.0)
    vidx = valid.nonzero()[0]
    # -- artifact rejection and averaging (the accepted readings, "a") --------------------
    qv = np.rint(sp[vidx] * Q).astype(np.int64)
    acc, confirmed = vector.artifact_accept(tq[vidx], qv, s.art_step_q, s.art_rate_q,
                                            s.art_hold_ms)
    if acc.all():
        aidx, qa = vidx, qv
    else:
        aidx, qa = vidx[acc], qv[acc]
    ta = tq[aidx]
    sel = np.zeros(n, dtype=bool)
    sel[aidx] = True
    prefix = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sel, out=prefix[1:])
    lo = grid_.starts(aidx, prefix, s.avg_ms, True, ta)
    x = vector.average(qa, lo, s.avg_median)
    tf = t[aidx]
    # When the live pipeline knew each accepted reading's verdicts: at its own time, but a
    # reading held back and then confirmed is only known at the confirming reading.
    tk = tf
    if confirmed:
        tk = tf.copy()
        apos = np.cumsum(acc) - 1  # valid index -> accepted index
        for first, conf in confirmed:
            tk[apos[first]:apos[conf]] = tf[apos[conf]]
    found: list[Spans] = []

    def add(name: str, prio: Priority, eps: list[vector.Episode], times: np.ndarray) -> None:
        found.append(vector.spans(name, prio, [float(times[e.raised]) for e in eps],
                                  [None if e.cleared is None else float(times[e.cleared])
                                   for e in eps]))

    # -- SpO2 level rules ------------------------------------------------------------------
    for rule in (s.spo2_low, s.spo2_severe):
        add(rule.name, rule.priority,
            vector.level_episodes(ta, x < rule.threshold, x >= rule.recover, rule.delay_ms,
                                  s.gap_ms, np.maximum(int(rule.threshold) - x, 0),
                                  rule.sat), tk)
    base_sum, base_n = _baseline(grid_, aidx, prefix, ta, x, s)
    known = base_n > 0
    drop_breach = known & (x * base_n <= base_sum - s.drop_points_q * base_n)
    drop_rec = ~known | (x * base_n > base_sum - s.drop_recover_q * base_n)
    add("spo2_drop", s.drop_priority,
        vector.level_episodes(ta, drop_breach, drop_rec, s.drop_delay_ms, s.gap_ms), tk)
    # -- pulse rate ----------------------------------------------------------------------------
    pok = ~bad & (pr >= s.pr_min) & (pr <= s.pr_max)
    pidx = pok.nonzero()[0]
    pv, tp, tpf = pr[pidx], tq[pidx], t[pidx]
    add("pr_low", s.pr_low.priority,
        vector.level_episodes(tp, pv < s.pr_low.threshold, pv >= s.pr_low.recover,
                              s.pr_low.delay_ms, s.gap_ms), tpf)
    add("pr_high", s.pr_high.priority,
        vector.level_episodes(tp, pv > s.pr_high.threshold, pv <= s.pr_high.recover,
                              s.pr_high.delay_ms, s.gap_ms), tpf)
    # -- time rules and battery ----------------------------------------------------------------
    tv = t[vidx]
    since = np.concatenate([t[:1], tv])
    until = np.concatenate([tv, t[-1:]])
    for name, prio, eps in (
            ("no_reading", s.no_reading_priority,
             vector.gap_episodes(since, until, s.no_reading_s, True)),
            ("stale_data", s.stale_priority,
             vector.gap_episodes(t[:-1], t[1:], s.stale_s, False))):
        found.append(vector.spans(name, prio, [e[0] for e in eps], [e[1] for e in eps]))
    found += vector.battery_spans(t, ((fl & int(Flags.LOW_BATTERY)) != 0).nonzero()[0],
                                  s.battery_priority)
    # -- metrics and events ----------------------------------------------------------------------
    w = vector.weights_ms(tq, s.gap_ms)
    wa = w[aidx]
    f = Findings(spans=found, duration=float(t[-1] - t[0]) + int(w[-1]) / MS)
    f.valid_ms = int(wa.sum())
    if x.size:
        f.sum_xw = int(np.dot(qa, wa))  # the readings themselves, not the averages
        f.b90, f.b85 = (int(wa[qa < lim].sum()) for lim in vector.CT_LIMITS)
        f.nadir_q = int(qa.min())
    known = base_n > 0
    cand = (known & (x * base_n <= base_sum - s.event_points_q * base_n)).nonzero()[0]
    if cand.size:
        start = np.ones(cand.size, dtype=bool)
        start[1:] = (cand[1:] != cand[:-1] + 1) | ((ta[cand[1:]] - ta[cand[:-1]]) > s.gap_ms)
        heads = start.nonzero()[0]
        i0, i1 = cand[heads], cand[push(heads[1:] - 1, cand.size - 1)]
        wc, qc = wa[cand], qa[cand]
        f.set_events(tf[i0], tf[i1], base_sum[i0], base_n[i0],
                     np.minimum.reduceat(qc, heads), np.add.reduceat(wc, heads),
                     np.add.reduceat(qc * wc, heads))
    return f


def _baseline(grid_: vector.Grid, aidx: np.ndarray, prefix: np.ndarray, ta: np.ndarray,
              x: np.ndarray, s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Baseline.update for every averaged reading: (sum, count); count 0 = unknown."""
    n = x.size
    lo = grid_.starts(aidx, prefix, s.base_lag_ms + s.base_win_ms, False, ta)
    hi = grid_.starts(aidx, prefix, s.base_lag_ms, False, ta)  # first at or after t - lag
    c = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(x, out=c[1:])
    cnt = hi - lo
    total = c[hi] - c[lo]
    if n:
        first = ta[np.minimum(lo, n - 1)]
        known = (cnt > 0) & (first <= ta - (s.base_lag_ms + s.base_win_ms // 2))
        cnt = np.where(known, cnt, 0)
    return total, cnt


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def _result(s: Settings, f: Findings, note: str | None = None) -> AnalysisResult:
    """Turn what either path found (exact integers where it matters) into the result, so
    both paths report identical figures. The definitions (DESIGN.md, `analyze --help`):

    - ct90 / ct85: percent of the valid time with readings strictly below 90 / 85
      (`oximon.time_below`; as device summaries and OSCAR count);
    - events: runs of averaged SpO2 at least `events.points` below the person's baseline
      (the baseline at the run's start) whose readings cover at least
      `events.min_duration_s` (default 10 s, the usual scoring rule); an event's nadir is
      its lowest reading and its depth the baseline minus that reading;
    - odi3 / odi4: events at least 3 / 4 points deep per hour of valid time;
    - nadir: the lowest accepted reading (a device value, never an average); mean_spo2:
      the time-weighted mean of the accepted readings;
    - hypoxic_burden: the area between the baseline and the readings over the events,
      in %·min per hour of valid time: the event-level burden of Azarbarzin et al. (Eur
      Heart J 2019;40:1149-57), with oximetry desaturation events in place of scored
      respiratory events (an oximeter has no airflow signal) and oximon's pre-event
      baseline in place of the maximum of the 100 s before each event.
    """
    events: list[Event] = []
    depths = np.zeros(0)
    area_ms = 0.0  # milli-percent x ms
    if f.events is not None:
        t0, t1, s0, n0, nadir_q, sw, sxw = f.events
        good = (sw >= round(s.event_min_s * MS)).nonzero()[0]
        if good.size < t0.size:
            t0, t1, s0, n0, nadir_q, sw, sxw = (a[good] for a in f.events)
        s0, n0 = s0.astype(float), n0.astype(float)
        # (the columns made in place, rounded and turned into floats at once: one numpy
        # call each)
        rounded = np.empty((5, t0.size))
        rounded[0], rounded[1] = t0, t1
        nadir, base = np.divide(nadir_q, Q, out=rounded[2]), rounded[3]
        np.divide(np.divide(s0, n0, out=base), Q, out=base)
        np.subtract(base, nadir, out=rounded[4])
        rounded.round(3, out=rounded)
        depths = rounded[4]
        events = _records(Event, repeat("desaturation"), *rounded.tolist())
        area_ms = float(np.add.reduce((s0 * sw - n0 * sxw) / n0))
    alarms = [] if note else _alarms(f.spans)
    valid_ms = f.valid_ms
    duration = f.duration if math.isfinite(f.duration) else 0.0
    if valid_ms <= 0 or f.nadir_q is None:
        metrics: dict[str, float | None] = dict.fromkeys(_METRICS)
    else:
        hours = valid_ms / 3.6e6
        metrics = {
            "odi3": _r(int(np.count_nonzero(depths >= 3)) / hours),
            "odi4": _r(int(np.count_nonzero(depths >= 4)) / hours),
            "ct90": _r(100 * f.b90 / valid_ms),
            "ct85": _r(100 * f.b85 / valid_ms),
            "nadir": _r(f.nadir_q / Q),
            "mean_spo2": _r(f.sum_xw / (Q * valid_ms)),
            "hypoxic_burden": _r(area_ms / (Q * MS) / 60.0 / hours),
        }
    return AnalysisResult(_r(duration), _r(valid_ms / MS), metrics, events, alarms,
                          s.averaging_delay_s, note)


def _alarms(found: list[Spans]) -> list[AlarmSpan]:
    """All the rules' spans as AlarmSpans, in order of (raised, condition)."""
    # In order of condition (a stable sort): a stable sort of their times then breaks
    # ties by condition, as a sort on both would.
    batches = sorted((b for b in found if b[2].size), key=itemgetter(0))
    if not batches:
        return []
    raised = np.concatenate([b[2] for b in batches])
    cleared = np.concatenate([b[3] for b in batches])
    ends: list[float | None] = cleared.tolist()
    for i in (cleared != cleared).nonzero()[0].tolist():  # NaN: still active (a few)
        ends[i] = None
    # Each batch's records (name and priority repeated: zip stops at the first iterator
    # that ends, before taking from the shared ones), then all of them in time order.
    ri, ei = iter(raised.tolist()), iter(ends)
    found_: list[AlarmSpan] = []
    for b in batches:
        found_ += _records(AlarmSpan, repeat(b[0], b[2].size), repeat(b[1]), ri, ei)
    order = raised.argsort(kind="stable").tolist()
    return list(itemgetter(*order)(found_)) if len(order) > 1 else found_


_T = TypeVar("_T", bound=tuple[Any, ...])


def _records(cls: type[_T], *columns: Any) -> list[_T]:
    """Named tuples of `cls` from its columns, field by field, without a Python call
    per record (`tuple.__new__` on zip's rows; a column may be endless, `repeat`, but
    not all of them)."""
    return list(map(tuple.__new__, repeat(cls), zip(*columns, strict=False)))
