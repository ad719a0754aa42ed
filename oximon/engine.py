"""The engine: sources → pipeline → alarms → records, in one asyncio loop.

The same engine runs headless (`oximon monitor`) and behind the dashboard (inside Qt's loop
via qasync), so what the tests prove headless is what the screen shows. Its synchronous
core (`feed`, `tick`, `acknowledge`) has no awaits, so tests can drive it with a
`ManualClock` and no event loop at all; `run()` only adds the tasks that pull from sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from oximon.alarms import RestoredAlarm
from oximon.booths import (
    BOOTH_KEYS,
    STANDBY_QUIET,
    BoothSettings,
    BoothSettingsError,
    checked,
)
from oximon.clock import Clock
from oximon.events import AlarmEvent, DeviceStateChanged, EngineEvent
from oximon.live_profile import ReplayablePipeline
from oximon.ports import AlarmSystem, AlarmSystemFactory, RecordSink, Source
from oximon.profile import Profile
from oximon.types import (
    ConditionChange,
    DeviceState,
    Flags,
    Sample,
    SourceEvent,
    StateChange,
    Station,
)

log = logging.getLogger(__name__)

EventListener = Callable[[EngineEvent], None]
SampleListener = Callable[[str, Sample], None]

TICK_S = 0.25  # how often (engine seconds) time-driven rules are checked
MIN_REAL_TICK_S = 0.002  # ...but no more often than this in real time (fast --speed runs)


@dataclass
class StationLive:
    """What the screen needs about a station right now (never a stale number: `spo2` and
    `pr` are NaN unless the device is streaming valid values)."""

    station: Station
    state: DeviceState = DeviceState.CONNECTING
    state_detail: str = ""
    spo2: float = math.nan
    pr: float = math.nan
    pi: float | None = None
    flags: Flags = Flags.NONE
    signal: float | None = None
    battery: float | None = None
    last_sample_t: float | None = None
    last_valid_t: float | None = None
    samples: int = 0
    booth: str = ""  # the booth's own settings in words ("limits: pulse 45–140", "Standby")


_SITE = BoothSettings()  # a booth with no settings of its own (never changed)


class Engine:
    def __init__(
        self,
        clock: Clock,
        profile: Profile,
        alarms: AlarmSystem | AlarmSystemFactory,
        records: RecordSink | None = None,
    ):
        self.clock = clock
        self.profile = profile
        self.alarms: AlarmSystem = alarms(profile) if callable(alarms) else alarms
        self.records = records
        if records is not None:  # e.g. the priority of the store's "records not saved"
            records.apply_profile(profile)
        self.stations: dict[str, StationLive] = {}
        self._sources: dict[str, Source] = {}
        self._pipelines: dict[str, ReplayablePipeline] = {}
        self._listeners: list[EventListener] = []
        self._sample_listeners: list[SampleListener] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        # A stop asked for before `run` began (SIGTERM while the window is still being
        # built) must not be forgotten when it begins: it ran on, unstoppable, forever.
        self._stop_requested = False
        # Heartbeat: real (monotonic) and engine time of the loop's last pass. A watchdog
        # thread and the UI compare it with the clock to notice a stalled or dead engine.
        self.heartbeat: float | None = None
        self.heartbeat_t: float | None = None
        self.running = False
        # Stations whose source raised (station id -> why): the CLI's exit status.
        self.failed: dict[str, str] = {}
        self._alarm_t: dict[tuple[str, str], float] = {}  # last time published per alarm
        # Events of the wiring (restored alarms) wait for the first tick: the screen, the
        # JSON printer and the store subscribe after the engine is built.
        self._held: list[EngineEvent] = []
        self.booths: dict[str, BoothSettings] = {}  # per-booth limits and standby

    # -- wiring -------------------------------------------------------------------------
    def add_station(self, station: Station, source: Source | None = None) -> None:
        if station.id in self.stations:
            raise ValueError(f"station {station.id!r} already exists")
        if source is not None and station.device is None:
            station.device = source.info
        self.stations[station.id] = StationLive(
            station, DeviceState.CONNECTING if source is not None else DeviceState.UNASSIGNED)
        self._pipelines[station.id] = ReplayablePipeline(station.id, self.profile)
        if source is not None:
            self._sources[station.id] = source

    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def subscribe_samples(self, listener: SampleListener) -> None:
        self._sample_listeners.append(listener)

    # -- the synchronous core ------------------------------------------------------------
    def feed(self, station_id: str, item: SourceEvent) -> None:
        """One sample or state change from a station's source. The source decides the
        device's state (see oximon.device_state); the engine applies it."""
        live = self.stations[station_id]
        pipeline = self._pipelines[station_id]
        if isinstance(item, StateChange):
            self._set_state(live, item.state, item.t, item.detail)
            return
        live.samples += 1
        live.last_sample_t = item.t
        live.flags = item.flags
        live.pi = item.pi
        live.signal = item.signal if item.signal is not None else live.signal
        live.battery = item.battery if item.battery is not None else live.battery
        if item.valid and live.state.has_numbers:
            live.last_valid_t = item.t
            live.spo2, live.pr = item.spo2, item.pr
        else:
            if item.valid:
                live.last_valid_t = item.t
            live.spo2 = live.pr = math.nan
        self.alarms.observe(station_id, item)
        for listener in self._sample_listeners:
            listener(station_id, item)
        if self.records is not None:
            self.records.on_sample(station_id, item)
        if item.valid and self.booths.get(station_id, _SITE).standby:
            self.set_standby(station_id, False)  # readings: a new guest is on the probe
        self._conditions(self._quiet(station_id, pipeline.push(item)))

    def tick(self, now: float | None = None) -> None:
        """Time-driven rules: no reading, escalation, audio pause expiry."""
        now = self.clock.now() if now is None else now
        if self._held:
            held, self._held = self._held, []
            self._publish(held)
        for sid, pipeline in self._pipelines.items():
            self._conditions(self._quiet(sid, pipeline.tick(now)))
        self._publish(self.alarms.tick(now))
        if self.records is not None:  # batching, retries, events of its own
            self._publish(self.records.tick(now))

    def acknowledge(self, station_id: str, condition: str | None = None, by: str = "") -> None:
        """Acknowledge a station's alarms; an alarm that is gone raises
        `oximon.alarms.AlarmRequestError` (its message is for the person)."""
        self._publish(self.alarms.acknowledge(self.clock.now(), station_id, condition, by))

    def pause_audio(self, by: str = "", seconds: float | None = None) -> bool:
        """Pause alarm audio (at most the profile's maximum). A longer pause, or any when
        the profile forbids pausing, raises `AlarmRequestError` saying why."""
        events = self.alarms.pause_audio(self.clock.now(), by, seconds)
        self._publish(events)
        return bool(events)

    def resume_audio(self, by: str = "") -> bool:
        """End the audio pause by hand (False: it was not paused)."""
        events = self.alarms.resume_audio(self.clock.now(), by)
        self._publish(events)
        return bool(events)

    def response_logged(self, station_id: str) -> None:
        """A person logged a response action for the booth (its reminder waits again)."""
        self.alarms.note_response(station_id, self.clock.now())

    def restore_alarms(self, alarms: list[RestoredAlarm]) -> None:
        """Unacknowledged high alarms of an interrupted incident (read from the store at
        start): back latched, escalated if they were. The alarm manager holds them at
        once; their events are published at the first tick, when everyone listens."""
        self._held.extend(self.alarms.restore(alarms, self.clock.now()))

    # -- stations added or removed while running (pairing from the dashboard) -------------
    def attach_station(self, station: Station, source: Source) -> None:
        """Add a station and, if the engine is running, start pulling from its source now."""
        self.add_station(station, source)
        if self._tasks and not self._stopping:
            self._tasks[station.id] = asyncio.create_task(
                self._pump(station.id, source), name=f"source {station.id}")

    def remove_station(self, station_id: str) -> None:
        """Stop a station's source and forget it, its alarms ended (the dashboard refuses
        while it alarms)."""
        if station_id in self.stations:
            self._publish(self.alarms.end_station(station_id, self.clock.now(), force=True))
        self.booths.pop(station_id, None)
        task = self._tasks.pop(station_id, None)
        if task is not None and not task.done():
            task.cancel()
        self._sources.pop(station_id, None)
        self._pipelines.pop(station_id, None)
        self.stations.pop(station_id, None)

    def apply_profile(self, profile: Profile) -> int:
        """Use a new profile now, for every station (a supervisor changed thresholds):
        each station's detectors are rebuilt and replayed over their recent history (see
        `oximon.live_profile`), alarms that no longer hold clear, ones that now hold are
        raised, and the alarm system takes its own settings when it has any. Returns the
        number of stations that changed over."""
        now = self.clock.now()
        self.profile = profile
        self.alarms.apply_profile(profile)
        if self.records is not None:
            self.records.apply_profile(profile)
        for sid, pipeline in self._pipelines.items():
            self._conditions(self._quiet(sid, pipeline.rebuild(self.booth_profile(sid), now)))
        return len(self._pipelines)

    # -- per-booth limits and standby -----------------------------------------------------
    def booth_profile(self, station_id: str) -> Profile:
        """The site profile with the booth's own limits (validated: safety floors hold)."""
        limits = self.booths.get(station_id, _SITE).limits
        return self.profile.with_overrides(limits) if limits else self.profile

    def set_booth_limits(self, station_id: str, limits: dict[str, float]) -> None:
        """Limits for the guest in this booth (only `booths.BOOTH_KEYS`, within the safety
        floors: a ProfileError or BoothSettingsError says which key and why). {} = the
        site's. In force at once, like a profile change."""
        if station_id not in self.stations:
            raise BoothSettingsError(f"no booth {station_id!r}")
        booth = self.booths.setdefault(station_id, BoothSettings())
        old = booth.limits
        booth.limits = checked(station_id, limits)
        try:
            profile = self.booth_profile(station_id)
        except ValueError:
            booth.limits = old
            raise
        self._conditions(self._quiet(station_id, self._pipelines[station_id].rebuild(
            profile, self.clock.now())))
        self._booth_words(station_id)

    def set_standby(self, station_id: str, on: bool) -> None:
        """Standby: no guest, so no "no reading" alarm (one up now clears) and the booth's
        own limits go back to the site's. It ends by hand or at the first valid reading
        (a new guest); vital-sign alarms are never held back."""
        if station_id not in self.stations:
            raise BoothSettingsError(f"no booth {station_id!r}")
        booth = self.booths.setdefault(station_id, BoothSettings())
        if booth.standby == on:
            return
        now = self.clock.now()
        if on:  # the guest left: their alarms end (refused while one is unacknowledged)
            self._publish(self.alarms.end_station(station_id, now))
        booth.standby = on
        pipeline = self._pipelines[station_id]
        if on:
            booth.limits = {}
            self._conditions(pipeline.rebuild(self.profile, now))
            self._conditions([dataclasses.replace(c, active=False, t=now, onset=None)
                              for name, c in pipeline.active.items() if name in STANDBY_QUIET])
        else:  # what holds now alarms again
            self._conditions([dataclasses.replace(c, t=max(c.t, now))
                              for name, c in pipeline.active.items() if name in STANDBY_QUIET])
        self._booth_words(station_id)

    def _booth_words(self, station_id: str) -> None:
        site = {k: float(self.profile.get(k)) for k in BOOTH_KEYS}
        self.stations[station_id].booth = self.booths[station_id].words(site)

    def _quiet(self, station_id: str, changes: list[ConditionChange]) -> list[ConditionChange]:
        """A booth in standby raises no "no reading" (its clears still go through)."""
        if not self.booths.get(station_id, _SITE).standby:
            return changes
        return [c for c in changes if not (c.active and c.condition in STANDBY_QUIET)]

    def report(self, changes: list[ConditionChange]) -> None:
        """Conditions from outside the pipeline (watchdog, sound output) into the alarms."""
        self._conditions(changes)

    def _conditions(self, changes: list[ConditionChange]) -> None:
        for change in changes:
            self._publish(self.alarms.on_condition(change))

    def _set_state(self, live: StationLive, state: DeviceState, t: float, detail: str = "") -> None:
        if state is live.state and detail == live.state_detail:
            return
        live.state, live.state_detail = state, detail
        if not state.has_numbers:
            live.spo2 = live.pr = math.nan
        self._publish([DeviceStateChanged(t=t, station=live.station.id, device_state=state,
                                          detail=detail)])
        # The pipeline hears every state, whether a source said it or the engine inferred it.
        self._conditions(self._pipelines[live.station.id].on_state(StateChange(t, state, detail)))

    def _publish(self, events: Sequence[EngineEvent | ConditionChange]) -> None:
        """Listeners (screen, speaker, JSON) hear each event first, then the store, whose
        own events follow; a ConditionChange from the store (its "records not saved")
        goes through the alarm system like any other condition."""
        queue = list(events)
        while queue:
            event = queue.pop(0)
            if isinstance(event, ConditionChange):
                queue.extend(self.alarms.on_condition(event))
                continue
            event = self._in_order(event)
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a broken listener must never stop monitoring
                    log.exception("event listener failed on %s", event)
            if self.records is not None:
                queue.extend(self.records.on_event(event))

    def _in_order(self, event: EngineEvent) -> EngineEvent:
        """An alarm's events never go back in time: a verdict stamped at the exact moment
        a rule held (e.g. "no reading" at since + delay) can be followed by a sample from
        a source that ran a little behind; its clear is then stamped no earlier than the
        raise that is already on record."""
        if not isinstance(event, AlarmEvent):
            return event
        key = (event.station, event.condition)
        last = self._alarm_t.get(key)
        if last is not None and event.t < last:
            event = dataclasses.replace(event, t=last)
        self._alarm_t[key] = event.t
        return event

    # -- the asyncio runner --------------------------------------------------------------
    async def run(self, duration: float | None = None) -> None:
        """Run every source and the ticker until `duration` engine seconds have passed or
        every source has ended (whichever is first), or a stop was requested."""
        self._stopping = self._stop_requested
        self.running = True
        start = self.clock.now()
        # A paced clock (ScaledClock under --speed) lets virtual time run only as far as
        # this ticker has granted, so an overloaded loop slows the run down instead of
        # letting data look stale; see oximon.clock.ScaledClock.
        for sid, source in self._sources.items():
            self._tasks[sid] = asyncio.create_task(self._pump(sid, source), name=f"source {sid}")
        try:
            while not self._stopping:
                now = self.clock.now()
                if duration is not None and now - start >= duration:
                    break
                if self._tasks and all(t.done() for t in self._tasks.values()):
                    break
                self.heartbeat, self.heartbeat_t = time.monotonic(), now
                self.tick(now)
                tick_s = self._tick_s()
                step = tick_s if duration is None else min(tick_s, start + duration - now)
                self.clock.pace(now + max(step, 0.0))
                await self.clock.sleep_until(now + max(step, 0.0))
            self.tick()
        finally:
            self.running = False
            self._stop_requested = False
            self.clock.pace(None)
            await self.stop()

    def _tick_s(self) -> float:
        """Engine seconds between ticker passes: TICK_S, but at high --speed at least
        MIN_REAL_TICK_S of real time (the event loop's timers are no finer than ~1 ms, so
        shorter ticks would only slow a paced run down), and never more than a quarter of
        the stale-data delay. Verdict times do not depend on it: time rules stamp the
        moment a delay ran out."""
        speed = self.clock.speed
        if speed * MIN_REAL_TICK_S <= TICK_S:
            return TICK_S
        return max(TICK_S, min(speed * MIN_REAL_TICK_S, 1.0,
                               self.profile["stale_data"]["delay_s"] / 4))

    def request_stop(self) -> None:
        """Ask `run()` to finish at its next tick, or at once if it has not begun yet
        (safe from a listener or a signal handler: no await)."""
        self._stopping = True
        self._stop_requested = True

    async def stop(self) -> None:
        self._stopping = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.records is not None:
            self._publish(self.records.flush())

    async def _pump(self, station_id: str, source: Source) -> None:
        try:
            async for item in source.events(self.clock):
                self.feed(station_id, item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A source that dies is a technical fault, never a silent stop.
            log.debug("source for %s failed", station_id, exc_info=True)
            log.error("source for %s failed: %s", station_id, exc)
            self.failed[station_id] = str(exc) or type(exc).__name__
            now = self.clock.now()
            self.feed(station_id, StateChange(now, DeviceState.LOST, str(exc)))
            self._conditions([ConditionChange(
                station_id, "monitoring_stopped", True, now,
                self.profile["watchdog"]["priority"], technical=True,
                message=f"Monitoring stopped — the device's reader failed ({exc})")])
            return
        live = self.stations[station_id]
        if live.state is not DeviceState.LOST:
            self._set_state(live, DeviceState.ENDED, self.clock.now())
            # The pipeline stops its clocks (no "no reading" after a recording ends).
            ended = StateChange(self.clock.now(), DeviceState.ENDED, "source ended")
            self._conditions(self._pipelines[station_id].on_state(ended))

