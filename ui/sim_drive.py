"""Drive an engine from simulated oximeters synchronously, in virtual time.

The live dashboard pulls from sources on the asyncio loop; screenshots and tests want the
same pictures without waiting: this feeds each simulated station's samples straight into
`engine.feed` while a ManualClock jumps forward, ticking the engine as `run()` would.
"""

from __future__ import annotations

from oximon.clock import ManualClock
from oximon.drivers.sim import SimulatedLink
from oximon.drivers.sim_model import SimulatedOximeter
from oximon.engine import TICK_S, Engine
from oximon.types import DeviceState, StateChange


class SimDriver:
    def __init__(self, engine: Engine, clock: ManualClock):
        self.engine = engine
        self.clock = clock
        self.sims: dict[str, SimulatedLink] = {}
        for sid, live in engine.stations.items():
            self.add(sid, live.station.device.address if live.station.device else "")

    def add(self, sid: str, address: str) -> None:
        """Simulate station `sid` if its device address is a simulator spec."""
        kind, _, rest = address.partition(":")
        if kind != "sim":
            return
        scenario, _, seed = rest.partition(":")
        start = self.clock.now()
        self.sims[sid] = SimulatedLink(SimulatedOximeter(scenario, int(seed or 0), start=start))
        self.engine.feed(sid, StateChange(start, DeviceState.CONNECTING))

    def run_to(self, t: float) -> None:
        """Advance virtual time to `t`, feeding samples and ticking every TICK_S."""
        now = self.clock.now()
        while now < t - 1e-9:
            now = min(t, now + TICK_S)
            self.clock.set(now)
            for sid, sim in list(self.sims.items()):
                if sid not in self.engine.stations:
                    del self.sims[sid]
                    continue
                for item in sim.advance(now):
                    self.engine.feed(sid, item)
            self.engine.tick(now)
