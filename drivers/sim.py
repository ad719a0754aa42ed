"""The simulator as a Source: a `SimulatedOximeter` paced by the engine's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from oximon.clock import Clock
from oximon.device_state import SignalWatch
from oximon.drivers.sim_model import SCENARIOS, SimulatedOximeter
from oximon.types import DeviceInfo, DeviceState, SourceEvent, StateChange


class SimulatedLink:
    """A simulated oximeter as its source reports it: the model's readings and link
    changes, plus the streaming / no-reading states its readings mean (the one place a
    simulator's device state is decided, for the live source, the screenshot driver and
    the simulated month alike)."""

    def __init__(self, model: SimulatedOximeter, state: DeviceState = DeviceState.CONNECTING):
        self.model = model
        self._watch = SignalWatch(state)

    def advance(self, until: float) -> Iterator[SourceEvent]:
        for event in self.model.advance(until):
            yield from self._watch.see(event)


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
        model = SimulatedOximeter(self.scenario, self.seed, start=start, pleth=self._pleth,
                                  pleth_hz=self._pleth_hz, chunk_s=self._chunk_s)
        link = SimulatedLink(model)
        while True:
            due = model.t + model.chunk_s
            wait = due - clock.now()
            if wait > 0:
                await clock.sleep(wait)
            for event in link.advance(max(clock.now(), due)):
                yield event
