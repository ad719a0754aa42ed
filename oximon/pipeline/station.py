"""Per-station detection: samples and device states in, condition changes out.

Pure: no I/O, no wall clock — time comes from the samples and from `tick(now)`. The chain
for each sample is validity → motion-artifact rejection → averaging → the level rules
(spo2_low with its integrated delay, spo2_severe, spo2_drop, pr_low, pr_high); time-driven rules
(no_reading, stale_data) and device rules (lost_device, battery_low) run beside it.
Batch analysis (`oximon.analysis`) computes exactly the same verdicts for whole arrays
(`oximon.pipeline.vector`, tested against this class).
"""

from __future__ import annotations

import math

from oximon.pipeline.settings import (
    INVALID_FLAGS,
    MESSAGES,
    MS,
    T_LIMIT_S,
    Q,
    Settings,
    ThresholdRule,
)
from oximon.pipeline.stages import ArtifactFilter, Averager, Baseline, Level
from oximon.profile import Profile
from oximon.types import ConditionChange, DeviceState, Flags, Priority, Sample, StateChange

_CONNECTED = (DeviceState.STREAMING, DeviceState.NO_SIGNAL)
_LOOKING = (DeviceState.CONNECTING, DeviceState.SEARCHING)


class StationPipeline:
    """Streaming detectors for one station."""

    def __init__(self, station: str, profile: Profile):
        self.station = station
        self.profile = profile
        s = self.settings = Settings.from_profile(profile)
        self._artifact = ArtifactFilter(s.art_step_q, s.art_rate_q, s.art_hold_ms)
        self._avg = Averager(s.avg_ms, s.avg_median)
        self._baseline = Baseline(s.base_win_ms, s.base_lag_ms)
        self._low = Level(s.spo2_low.delay_ms, s.gap_ms, s.spo2_low.sat)
        self._severe = Level(s.spo2_severe.delay_ms, s.gap_ms)
        self._drop = Level(s.drop_delay_ms, s.gap_ms)
        self._pr_low = Level(s.pr_low.delay_ms, s.gap_ms)
        self._pr_high = Level(s.pr_high.delay_ms, s.gap_ms)
        self._spo2_min = s.spo2_min_q / Q
        self._connected = False
        self._max_t = -math.inf
        self._since: float | None = None  # time of the last valid reading (or connection)
        self._last_row_t: float | None = None  # time of the last sample of any kind
        self._no_reading = False
        self._stale = False
        self._lost = False
        self._battery = False
        # Since when we have been looking for a device that has not connected yet (None
        # once it connected: after that a drop is "lost device", not "not found").
        self._looking_since: float | None = None
        self._ever_connected = False
        self._not_found = False
        # Latest averaged SpO2 (milli-percent) and baseline, for the UI and tests.
        self.spo2_q: int | None = None

    # -- samples ---------------------------------------------------------------------
    def push(self, sample: Sample) -> list[ConditionChange]:
        t = sample.t
        if not (abs(t) <= T_LIMIT_S) or t < self._max_t:
            return []  # no usable time, or out of order: batch analysis skips it too
        self._max_t = t
        out: list[ConditionChange] = []
        if not self._connected:
            self._connected = True
            self._since = t
        if not self._ever_connected:  # readings came: the device was found
            self._ever_connected = True
            self._looking_since = None
            if self._not_found:
                self._not_found = False
                out.append(self._technical("device_not_found", False, t))
        out += self._time_rules(t)
        if self._stale:
            self._stale = False
            out.append(self._technical("stale_data", False, t))
        self._last_row_t = t
        s = self.settings
        flags = int(sample.flags)
        bad = flags & INVALID_FLAGS
        spo2 = sample.spo2
        tq = round(t * MS)
        if not bad and self._spo2_min <= spo2 <= 100.0:
            self._since = t
            if self._no_reading:
                self._no_reading = False
                out.append(self._technical("no_reading", False, t))
            q = round(spo2 * Q)
            art = self._artifact
            if art.accept(tq, q, t):
                # A confirmed sudden change: the held readings go through first, with their
                # own times (so delays count from the jump); what they raise is reported
                # now, never earlier than the moment the decision was made.
                for ht, htq, hq in art.released:
                    self._spo2(out, ht, htq, self._avg.push(htq, hq), t)
                self._spo2(out, t, tq, self._avg.push(tq, q), t)
        pr = sample.pr
        if not bad and s.pr_min <= pr <= s.pr_max:
            self._level(out, self._pr_low, s.pr_low, t, tq, pr < s.pr_low.threshold,
                        pr >= s.pr_low.recover, pr, t)
            self._level(out, self._pr_high, s.pr_high, t, tq, pr > s.pr_high.threshold,
                        pr <= s.pr_high.recover, pr, t)
        low_batt = bool(flags & Flags.LOW_BATTERY)
        if low_batt != self._battery:
            self._battery = low_batt
            out.append(self._technical("battery_low", low_batt, t))
        return out

    def _spo2(self, out: list[ConditionChange], t: float, tq: int, x: int, now: float) -> None:
        """One accepted reading (time t) through the SpO2 rules; changes are reported at
        `now` (the time of the sample being processed, >= t)."""
        s = self.settings
        self.spo2_q = x
        value = x / Q
        low = s.spo2_low
        self._level(out, self._low, low, t, tq, x < low.threshold, x >= low.recover, value,
                    now, max(0, int(low.threshold) - x))
        self._level(out, self._severe, s.spo2_severe, t, tq, x < s.spo2_severe.threshold,
                    x >= s.spo2_severe.recover, value, now)
        total, n = self._baseline.update(tq, x)
        if n:
            breach = x * n <= total - s.drop_points_q * n
            recovered = x * n > total - s.drop_recover_q * n
        else:
            breach, recovered = False, True
        change = self._drop.update(t, tq, breach, recovered)
        if change:
            out.append(self._change("spo2_drop", change > 0, now, s.drop_priority,
                                    self._drop.onset_t, value))

    def _level(self, out: list[ConditionChange], level: Level, rule: ThresholdRule, t: float,
               tq: int, breach: bool, recovered: bool, value: float, now: float,
               depth: int = 0) -> None:
        change = level.update(t, tq, breach, recovered, depth)
        if change:
            out.append(ConditionChange(self.station, rule.name, change > 0, now, rule.priority,
                                       onset=level.onset_t if change > 0 else None,
                                       value=value, message=rule.message))

    def _change(self, name: str, active: bool, t: float, priority: Priority, onset: float,
                value: float) -> ConditionChange:
        return ConditionChange(self.station, name, active, t, priority,
                               onset=onset if active else None, value=value,
                               message=MESSAGES[name])

    # -- device state and time -----------------------------------------------------------
    def on_state(self, change: StateChange) -> list[ConditionChange]:
        out: list[ConditionChange] = []
        state = change.state
        lost = state in (DeviceState.LOST, DeviceState.RECONNECTING)
        if lost != self._lost:
            self._lost = lost
            out.append(self._technical("lost_device", lost, change.t))
        if state in _CONNECTED:
            self._ever_connected = True
        looking = state in _LOOKING and not self._ever_connected
        if looking and self._looking_since is None:
            self._looking_since = change.t
        elif not looking:
            self._looking_since = None
            if self._not_found:
                self._not_found = False
                out.append(self._technical("device_not_found", False, change.t))
        if state in _CONNECTED:
            if not self._connected:
                self._connected = True
                self._since = change.t
                self._last_row_t = None
            return out
        self._connected = False
        if state is DeviceState.ENDED:
            return out  # a recording ran out: stop the clocks, leave verdicts as they are
        # Not connected: "no reading" is not the right words; lost device covers it.
        self._last_row_t = None
        for name in ("no_reading", "stale_data"):
            attr = "_no_reading" if name == "no_reading" else "_stale"
            if getattr(self, attr):
                setattr(self, attr, False)
                out.append(self._technical(name, False, change.t))
        return out

    def tick(self, now: float) -> list[ConditionChange]:
        """Time-driven checks (called by the engine even when no samples arrive)."""
        if not self._connected:
            return self._not_found_rule(now)
        return self._time_rules(now)

    def _not_found_rule(self, now: float) -> list[ConditionChange]:
        """A device never connected for `lost_device.not_found_s`: raised at the moment
        the delay ran out, like the other time rules."""
        since = self._looking_since
        if self._not_found or since is None or now - since < self.settings.not_found_s:
            return []
        self._not_found = True
        return [self._technical("device_not_found", True, since + self.settings.not_found_s,
                                since)]

    def _time_rules(self, now: float) -> list[ConditionChange]:
        """Raise no_reading / stale_data at the exact moment their delay ran out (not at
        the moment someone looked), so ticks at any rate give the same record."""
        out: list[ConditionChange] = []
        s = self.settings
        since = self._since
        if not self._no_reading and since is not None and now - since >= s.no_reading_s:
            self._no_reading = True
            out.append(self._technical("no_reading", True, since + s.no_reading_s, since))
        last = self._last_row_t
        if not self._stale and last is not None and now - last >= s.stale_s:
            self._stale = True
            out.append(self._technical("stale_data", True, last + s.stale_s, last))
        return out

    def _technical(self, name: str, active: bool, t: float,
                   onset: float | None = None) -> ConditionChange:
        s = self.settings
        priority = {
            "no_reading": s.no_reading_priority,
            "stale_data": s.stale_priority,
            "lost_device": s.lost_priority,
            "device_not_found": s.lost_priority,
            "battery_low": s.battery_priority,
        }[name]
        return ConditionChange(self.station, name, active, t, priority, technical=True,
                               onset=onset, message=MESSAGES[name])
