"""Simulated incidents in a real store: the simulator, the engine, the alarm manager and the
incident store run together in virtual time, and a scripted responder acknowledges,
acts, closes and (sometimes) a supervisor signs off.

Used for the sample monthly report (docs/make_sample_month.py) and by the review tests, so
both look at records made exactly the way monitoring makes them (alarms raised by the
detectors, incidents opened by the store, traces copied by the store), not hand-made rows.
It lives in the composition root because it wires drivers, alerts and the store together.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.drivers.sim import SimulatedLink
from oximon.drivers.sim_model import SimulatedOximeter
from oximon.engine import Engine
from oximon.events import AlarmCleared, AlarmEvent, AlarmRaised, EngineEvent, IncidentOpened
from oximon.profile import Profile
from oximon.store import Store, open_store
from oximon.types import DeviceState, Priority, StateChange, Station


@dataclass
class ResponsePlan:
    """What the responders do, in seconds after the incident's first high alarm."""

    ack_s: float = 12.0
    actions: list[tuple[float, str, dict[str, object]]] = field(default_factory=list)
    close_after_clear_s: float = 120.0
    outcome: list[str] = field(default_factory=lambda: ["responsive"])
    aftercare: list[str] = field(default_factory=lambda: ["advised_no_use_2h"])
    note: str = ""
    by: str = "peer-A"


@dataclass
class Simulation:
    """A store and an engine on one manual clock starting at `epoch`."""

    store: Store
    engine: Engine
    clock: ManualClock
    alarms: AlarmManager  # the engine's, typed as what it is (for its active alarms)
    events: list[EngineEvent] = field(default_factory=list)

    @classmethod
    def open(cls, db: str, epoch: datetime, stations: list[Station],
             profile: Profile | None = None) -> Simulation:
        clock = ManualClock(start=0.0, epoch=epoch)
        store = open_store(db, clock=clock, writer=True, create=True, simulated=True)
        profile = profile or Profile.default()
        alarms = AlarmManager(profile)
        engine = Engine(clock, profile, alarms, records=store)
        for st in stations:
            engine.add_station(st)
            store.add_station(st)
        sim = cls(store, engine, clock, alarms)
        engine.subscribe(sim.events.append)
        return sim

    def t_of(self, when: datetime) -> float:
        """Engine seconds for a wall-clock moment."""
        return (when - self.clock.wall()).total_seconds() + self.clock.now()

    def run_episode(self, station: str, scenario: str, seed: int, start: datetime,
                    plan: ResponsePlan, duration_s: float = 1100.0,
                    manual_open_s: float | None = None) -> str | None:
        """Simulate one person at `station` from `start`; returns the incident id (if one
        opened). `manual_open_s`: a worker opens it by hand that long after the start
        (before any alarm), as when someone is found unresponsive."""
        t0 = self.t_of(start)
        self.clock.set(t0)
        self._new_person(station, t0)
        device = SimulatedLink(SimulatedOximeter(scenario, seed, start=t0, chunk_s=1.0,
                                                 pleth=False),
                               self.engine.stations[station].state)
        incident: str | None = None
        first_alarm: float | None = None
        last_clear: float | None = None
        due: list[tuple[float, Callable[[], None]]] = []
        closed = False
        mark = len(self.events)
        t = t0
        while t < t0 + duration_s and not closed:
            t += 1.0
            self.clock.set(t)
            for item in device.advance(t):
                self.engine.feed(station, item)
            self.engine.tick(t)
            if manual_open_s is not None and incident is None and t - t0 >= manual_open_s:
                incident = self.store.open_incident(station, t, "manual", plan.by)
                first_alarm = t
                due += self._schedule(incident, station, t, plan, ack=False)
            for ev in self.events[mark:]:
                if ev.station != station:
                    continue
                if isinstance(ev, IncidentOpened) and incident is None:
                    incident = ev.id
                if isinstance(ev, AlarmEvent) and ev.priority is Priority.HIGH:
                    if isinstance(ev, AlarmRaised) and first_alarm is None:
                        first_alarm = ev.t
                        iid = incident or self.store.current_incident(station)
                        due += self._schedule(iid, station, ev.t, plan, ack=True)
                    elif isinstance(ev, AlarmRaised):  # a later alarm: the responder is there
                        due.append((ev.t + plan.ack_s, partial(
                            self.engine.acknowledge, station, by=plan.by)))
                    elif isinstance(ev, AlarmCleared):
                        last_clear = ev.t
            mark = len(self.events)
            for when, act in sorted(due, key=lambda d: d[0]):
                if when <= t:
                    act()
            due = [d for d in due if d[0] > t]
            active = any(a.station == station and a.condition_active
                         for a in self.alarms.active_alarms())
            if (incident and last_clear is not None and not active and not due
                    and t - last_clear >= plan.close_after_clear_s):
                self.store.close_incident(incident, t, plan.outcome, plan.aftercare, plan.by,
                                          plan.note)
                closed = True
        if incident and not closed:
            self.store.close_incident(incident, t, plan.outcome, plan.aftercare, plan.by,
                                      plan.note)
        self.engine.acknowledge(station, by=plan.by)  # the person has gone: nothing pending
        self.engine.tick(t)
        self.store.flush()
        return incident

    def _new_person(self, station: str, t: float) -> None:
        """Each episode is a new guest at the booth: the detectors start afresh (no
        baseline or stale-data state carried over from days before)."""
        live = self.engine.stations[station]
        self.engine.remove_station(station)
        self.engine.add_station(live.station)
        self.engine.feed(station, StateChange(t, DeviceState.STREAMING, "new guest"))

    def _schedule(self, incident: str | None, station: str, t_alarm: float, plan: ResponsePlan,
                  ack: bool) -> list[tuple[float, Callable[[], None]]]:
        out: list[tuple[float, Callable[[], None]]] = []
        if ack:
            out.append((t_alarm + plan.ack_s,
                        lambda: self.engine.acknowledge(station, by=plan.by)))
        if incident is None:
            return out
        for offset, action, details in plan.actions:
            out.append((t_alarm + offset, partial(self.store.record_action, incident, action,
                                                  t_alarm + offset, plan.by, details)))
        return out

    def close(self) -> None:
        self.store.close()


STATIONS = [Station(f"booth-{n}", alias=f"Booth {n}", booth=str(n)) for n in range(1, 7)]
SCENARIOS = ["slow-desat", "slow-desat", "rapid-desat", "apnea"]
NOTES = [
    "", "", "Found slumped after smoking; came round with stimulation.",
    "Injected alone in booth; friend alerted staff at the same time as the alarm.",
    "Probe slipped once during breaths; reading returned after re-seating.",
    "Agitated after naloxone; stayed for observation, declined transport.",
]


def random_plan(rng: random.Random) -> ResponsePlan:
    """A plausible response: fast acknowledgement, stimulation, often naloxone, sometimes
    9-1-1 and a transport; a second dose after 5 minutes when the first did not work."""
    ack = max(3.0, rng.lognormvariate(2.4, 0.5))  # median ~11 s
    first = ack + rng.uniform(5, 25)
    actions: list[tuple[float, str, dict[str, object]]] = [
        (ack + 2, "sign", {"sign": rng.choice(["unresponsive", "slow_breathing",
                                                "snoring_gurgling", "blue_lips_nails"])}),
        (first, "stimulated", {}),
        (first + 10, "airway", {}),
    ]
    outcome = ["responsive", "breathing_on_own"]
    severe = rng.random() < 0.6
    if severe:
        breaths = first + 20
        actions.append((breaths, "rescue_breaths_started", {}))
        dose1 = breaths + rng.uniform(20, 70)
        actions.append((dose1, "naloxone", {"dose": "0.4 mg", "route": "IM", "n": 1}))
        if rng.random() < 0.35:
            actions.append((dose1 + 300 + rng.uniform(0, 40), "naloxone",
                            {"dose": "0.4 mg", "route": "IM", "n": 2}))
        actions.append((dose1 + rng.uniform(120, 400), "rescue_breaths_stopped", {}))
        if rng.random() < 0.45:
            call = first + rng.uniform(15, 60)
            actions.append((call, "911_called", {}))
            actions.append((call + rng.uniform(420, 900), "ehs_arrived", {}))
            if rng.random() < 0.5:
                outcome = ["transported"]
        actions.append((dose1 + 200, "recovery_position", {}))
    return ResponsePlan(ack_s=ack, actions=sorted(actions, key=lambda a: a[0]),
                        close_after_clear_s=rng.uniform(60, 240), outcome=outcome,
                        aftercare=["advised_no_use_2h", "observed_resedation"]
                        if "transported" not in outcome else [],
                        note=rng.choice(NOTES), by=rng.choice(["peer-A", "peer-B", "peer-C"]))


def simulate_month(db: str, year: int, month: int, *, incidents: int = 36, seed: int = 7,
                   review_share: float = 0.7,
                   progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Fill the store at `db` with a month of simulated incidents across six booths (busier
    booths near the door), sign most off, and add a few amendments. Returns the ids."""
    rng = random.Random(seed)
    local = datetime(year, month, 1).astimezone()
    epoch = local.astimezone(UTC)
    sim = Simulation.open(db, epoch, STATIONS)
    weights = [6, 5, 3, 2, 1, 1]
    days = 28
    starts = sorted(
        (rng.randrange(days), rng.uniform(9.5, 21.0), n) for n in range(incidents))
    ids: list[str] = []
    try:
        for i, (day, hour, n) in enumerate(starts):
            station = rng.choices(STATIONS, weights)[0].id
            when = local.replace(day=day + 1, hour=int(hour), minute=int(hour % 1 * 60))
            plan = random_plan(rng)
            manual = 150.0 if rng.random() < 0.08 else None
            iid = sim.run_episode(station, rng.choice(SCENARIOS), seed * 1000 + n,
                                  when.astimezone(UTC), plan, manual_open_s=manual)
            if iid:
                ids.append(iid)
            if progress:
                progress(i + 1, incidents)
        for iid in ids:
            if rng.random() < review_share:
                sim.store.sign_off(iid, "supervisor-1", rng.choice(
                    ["Good response.", "Fast acknowledgement; debriefed breaths technique.",
                     "Reviewed with team at shift change.", ""]), rng.random() < 0.6)
        for iid in rng.sample(ids, k=min(3, len(ids))):
            sim.store.amend(iid, {"note": "Second responder was peer-B (added after shift)."},
                            "responder missing from the record", "peer-B")
        sim.store.flush()
    finally:
        sim.close()
    return ids
