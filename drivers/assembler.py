"""From device frames to `Sample`s: one about every 0.1 s, not one per 100 Hz packet.

A transport pushes whatever frames each notification or serial read completed; `take(now)`
returns a Sample when a period has passed, carrying every pleth point since the previous
one (so the screen draws a continuous wave) and the latest numbers, flags, signal and
battery. Pure: time comes in as `now`.
"""

from __future__ import annotations

import math

from oximon.drivers.frames import BatteryLevel, Frame, Reading, Waveform
from oximon.types import Flags, Sample

SAMPLE_PERIOD_S = 0.1
LOW_BATTERY_PERCENT = 10.0  # below this a sample carries Flags.LOW_BATTERY


class SampleAssembler:
    def __init__(self, pleth_rate: float = 0.0, period: float = SAMPLE_PERIOD_S):
        self.pleth_rate = pleth_rate
        self.period = period
        self.battery: float | None = None
        self.reset()

    def reset(self) -> None:
        """Forget numbers and waveform (a new connection must not show the old link's
        values); the battery level is kept until the device reports a new one."""
        self.spo2 = math.nan
        self.pr = math.nan
        self.pi: float | None = None
        self.flags = Flags.NONE
        self.signal: float | None = None
        self.readings = 0  # Reading frames seen since the last reset
        self._pleth: list[float] = []
        self._last_emit: float | None = None
        self._fresh = False

    def push(self, frames: list[Frame]) -> None:
        for frame in frames:
            if isinstance(frame, Reading):
                self.spo2, self.pr = frame.spo2, frame.pr
                self.pi, self.flags = frame.pi, frame.flags
                if frame.signal is not None:
                    self.signal = frame.signal
                if frame.battery is not None:
                    self.battery = frame.battery
                self._pleth.extend(frame.pleth)
                self.readings += 1
                self._fresh = True
            elif isinstance(frame, Waveform):
                self._pleth.extend(frame.points)
                self._fresh = True
            elif isinstance(frame, BatteryLevel):
                self.battery = frame.percent

    def set_battery(self, percent: float) -> None:
        self.battery = float(percent)

    def take(self, now: float) -> Sample | None:
        """A Sample if a period has passed since the last one and a reading has come."""
        if not self._fresh or not self.readings:
            return None
        if self._last_emit is not None and now - self._last_emit < self.period - 1e-9:
            return None
        self._last_emit = now
        self._fresh = False
        flags = self.flags
        if self.battery is not None and self.battery < LOW_BATTERY_PERCENT:
            flags |= Flags.LOW_BATTERY
        pleth, self._pleth = tuple(self._pleth), []
        return Sample(t=now, spo2=self.spo2, pr=self.pr, pi=self.pi, pleth=pleth,
                      pleth_rate=self.pleth_rate if pleth else 0.0, flags=flags,
                      signal=self.signal, battery=self.battery)
