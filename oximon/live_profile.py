"""A station's detectors that can take a new alarm profile while monitoring runs.

When a supervisor changes thresholds, every station must use them at once, not after a
restart. A `StationPipeline` built with the new profile knows nothing of the last minutes:
not the person's baseline, not how long SpO2 has been low, not which conditions it has
reported. Simply swapping it in would leave an alarm raised by the old detectors with no
one left to clear it, and would restart every delay.

So each station's pipeline is wrapped: the wrapper remembers what it fed the detectors
over the last few minutes (samples without their waveform, and device states) and which
conditions are active. On a new profile, a fresh pipeline is replayed over that history —
its verdicts are what the new thresholds say about the person right now — and only the
difference is reported: a condition that no longer holds clears, one that now holds is
raised (with its real onset), one that holds under both carries on as the same alarm.

Pure like the pipeline: no I/O, no clock of its own.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

from oximon.pipeline import StationPipeline
from oximon.profile import Profile
from oximon.types import ConditionChange, Sample, StateChange

MIN_MEMORY_S = 300.0  # at least five minutes of history, whatever the profile


def memory_s(profile: Profile) -> float:
    """Seconds of history that decide every verdict under `profile`: the baseline's window
    and lag, the averaging and artifact windows and the longest delay."""
    drop = profile["spo2_drop"]
    delays = max(float(profile[s]["delay_s"]) for s in (
        "spo2_low", "spo2_severe", "spo2_drop", "pr_low", "pr_high",
        "no_reading", "stale_data"))
    need = (float(drop["baseline_window_s"]) + float(drop["baseline_lag_s"])
            + float(profile["averaging"]["window_s"]) + float(profile["artifact"]["hold_s"])
            + delays)
    return max(MIN_MEMORY_S, need)


class ReplayablePipeline:
    """`StationPipeline`'s interface (push, on_state, tick) plus `rebuild(profile, now)`."""

    def __init__(self, station: str, profile: Profile):
        self.station = station
        self.pipeline = StationPipeline(station, profile)
        self.keep_s = memory_s(profile)
        self.active: dict[str, ConditionChange] = {}  # condition -> the change that raised it
        self._history: deque[Sample | StateChange] = deque()
        self._state_before: StateChange | None = None  # the last state older than history

    # -- the pipeline's interface --------------------------------------------------------
    def push(self, sample: Sample) -> list[ConditionChange]:
        self._remember(dataclasses.replace(sample, pleth=()) if sample.pleth else sample)
        return self._note(self.pipeline.push(sample))

    def on_state(self, change: StateChange) -> list[ConditionChange]:
        self._remember(change)
        return self._note(self.pipeline.on_state(change))

    def tick(self, now: float) -> list[ConditionChange]:
        return self._note(self.pipeline.tick(now))

    def __getattr__(self, name: str) -> Any:
        # Anything else (e.g. `spo2_q`, `settings`) is the detectors' own.
        if name == "pipeline":
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    # -- a new profile -------------------------------------------------------------------
    def rebuild(self, profile: Profile, now: float) -> list[ConditionChange]:
        """Use `profile` from now on; returns the condition changes that follow from it
        (stamped `now`). An alarm already sounding keeps its priority until it ends."""
        fresh = StationPipeline(self.station, profile)
        active: dict[str, ConditionChange] = {}
        items: list[Sample | StateChange] = list(self._history)
        if self._state_before is not None:
            items.insert(0, self._state_before)
        for item in items:
            out = fresh.push(item) if isinstance(item, Sample) else fresh.on_state(item)
            _fold(active, out)
        _fold(active, fresh.tick(now))
        changes: list[ConditionChange] = []
        for name, old in self.active.items():
            if name not in active:
                changes.append(ConditionChange(self.station, name, False, now, old.priority,
                                               technical=old.technical, message=old.message))
        for name, new in active.items():
            if name not in self.active:
                changes.append(dataclasses.replace(new, t=max(new.t, now)))
        self.pipeline, self.active = fresh, active
        self.keep_s = max(self.keep_s, memory_s(profile))
        return changes

    # -- bookkeeping ---------------------------------------------------------------------
    def _remember(self, item: Sample | StateChange) -> None:
        history = self._history
        history.append(item)
        cutoff = item.t - self.keep_s
        while history and history[0].t < cutoff:
            old = history.popleft()
            if isinstance(old, StateChange):
                self._state_before = old

    def _note(self, out: list[ConditionChange]) -> list[ConditionChange]:
        _fold(self.active, out)
        return out


def _fold(active: dict[str, ConditionChange], changes: list[ConditionChange]) -> None:
    for change in changes:
        if change.active:
            active.setdefault(change.condition, change)
        else:
            active.pop(change.condition, None)
