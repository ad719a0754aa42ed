"""The simulator as a Source: a `SimulatedOximeter` paced by the engine's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

from oximon.clock import Clock
from oximon.device_state import SignalWatch
from oximon.drivers.sim_model import SCENARIOS, SimulatedOximeter
from oximon.types import DeviceInfo, DeviceState, SourceEvent, StateChange


class SimulatorSource:
    def __init__(self, scenario: str, seed: int = 0, *, pleth: bool = True,
                 pleth_hz: float = 50.0, chunk_s: float = 0.1):
        if scenario not in SCENARIOS:
            raise KeyError(scenario)
        self.scenario = scenario
        self.seed = seed
        self._pleth = pleth
        self._pleth_hz = pleth_hz
        self._chunk_s = chunk_s
        self.info = DeviceInfo(address=f"sim:{scenario}:{seed}", transport="sim",
                               protocol="sim", name=f"Simulated oximeter ({scenario})",
                               model="oximon simulator")

    async def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        start = clock.now()
        yield StateChange(start, DeviceState.CONNECTING)
        watch = SignalWatch()
        model = SimulatedOximeter(self.scenario, self.seed, start=start, pleth=self._pleth,
                                  pleth_hz=self._pleth_hz, chunk_s=self._chunk_s)
        while True:
            due = model.t + model.chunk_s
            wait = due - clock.now()
            if wait > 0:
                await clock.sleep(wait)
            for event in model.advance(max(clock.now(), due)):
                for out in watch.see(event):
                    yield out
