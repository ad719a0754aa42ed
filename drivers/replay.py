"""Replay a recording CSV as a Source, paced by the engine's clock (so `--speed` works)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from oximon.clock import Clock
from oximon.device_state import SignalWatch
from oximon.recording import Recording, read_recording
from oximon.types import DeviceInfo, DeviceState, SourceEvent, StateChange


class ReplaySource:
    """Yields each row at `t0 + time`; ends after the last row (the engine then stops)."""

    def __init__(self, path: str, t0: float = 0.0, recording: Recording | None = None):
        self.recording = recording or read_recording(path)  # errors early, naming the line
        self.t0 = t0
        self.info = DeviceInfo(address=path, transport="replay", protocol="csv",
                               name=f"Replay of {path}")

    async def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        yield StateChange(self.t0, DeviceState.CONNECTING, "replay")
        watch = SignalWatch()
        for sample in self.recording.samples(offset=self.t0):
            wait = sample.t - clock.now()
            if wait > 0:
                await clock.sleep(wait)
            for event in watch.see(sample):
                yield event
