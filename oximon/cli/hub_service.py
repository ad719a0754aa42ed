"""A hub's booths published for every screen of the site: what `oximon hub` runs headless,
and what a dashboard runs for its own booths when its computer is a hub.

Given an engine that runs the hub's booths (their alarm managers, their records), the
service publishes their live state (an alarm or device change at once, numbers and the
heartbeat once a second, the audio pause with who paused and who resumed) and applies
what arrives from any screen (acknowledgements, audio pauses and resumes, responses for
the hub's incidents), on the engine's loop, audited as a tap is.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import psycopg

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.engine import Engine
from oximon.events import AlarmEvent, AudioPaused, AudioResumed, EngineEvent
from oximon.ports import IncidentLog
from oximon.site.commands import Command
from oximon.site.hub import Audio, HubAlreadyRunning, HubLink, apply_command
from oximon.site.incidents import HubIncidents, RememberingLog
from oximon.site.state import BoothState
from oximon.store import Store

log = logging.getLogger("oximon.hub")


class HubService:
    """The link of hub `name` for `labels` (booth id -> label) run by `engine`."""

    def __init__(self, engine: Engine, records: Store, url: str, name: str, host: str,
                 labels: dict[str, str]):
        self.engine, self.records, self.name, self.labels = engine, records, name, labels
        self.log = RememberingLog(records)  # this hub's incidents, their last responses
        self.incidents = hub_incidents(engine, records, list(labels), self.log)
        self.link = HubLink(url, name, host, list(labels), self._apply)
        self.resumed_by = ""  # who ended the last audio pause by hand
        self.hint = ""  # said after "hub NAME is already running" (what to do instead)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()  # the engine's loop runs: commands can be applied
        self._publisher: asyncio.Task[None] | None = None
        engine.subscribe(self._heard)

    # -- commands from any screen (on the link's command thread) ---------------------------
    def _apply(self, cmd: Command) -> str:
        if not self._ready.wait(10.0):  # the screen is still opening
            raise RuntimeError(f"hub {self.name} is still starting")
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._on_loop(cmd), self._loop)
        result = future.result(timeout=10.0)
        if (cmd.payload or {}).get("op") == "current":
            return result  # a screen asking which incident is open changes nothing
        self.records.record_audit(f"site.{cmd.action}", cmd.booth, {
            "from_host": cmd.from_host, "hub": self.name, "command": cmd.id,
            "result": result}, cmd.by)
        return result

    async def _on_loop(self, cmd: Command) -> str:
        return apply_command(self.engine, cmd, self.incidents)

    # -- publishing ------------------------------------------------------------------------
    def _heard(self, event: EngineEvent) -> None:
        """An alarm or device change of a booth is published at once (numbers wait for the
        once-a-second publication); an audio pause or resume goes with the next beat."""
        if isinstance(event, AudioPaused):
            self.resumed_by = ""
        if isinstance(event, AudioResumed):
            self.resumed_by = event.by
        if isinstance(event, AudioPaused | AudioResumed):
            self.link.audio(self.audio())
            return
        if event.station in self.labels:
            self.link.publish([self.state(event.station)])
        if isinstance(event, AlarmEvent):
            log.info("%s %s %s %s", event.station, event.state, event.priority.label,
                     event.condition)

    def state(self, sid: str) -> BoothState:
        engine = self.engine
        return self.link.state_of(engine.stations[sid], engine.alarms.active_alarms(),
                                  engine.clock.now(), self.labels[sid],
                                  self.log.responses(sid))

    def last_response(self, booth: str) -> str:
        """The last response logged for the booth's open incident, on any screen ('')."""
        said = self.log.responses(booth) if booth in self.labels else []
        return said[-1].words() if said else ""

    def audio(self) -> Audio:
        engine = self.engine
        left = engine.alarms.pause_remaining(engine.clock.now()) / max(engine.clock.speed, 1e-9)
        return Audio(engine.alarms.paused_by if left > 0 else "", round(left, 1),
                     self.resumed_by)

    # -- start and stop --------------------------------------------------------------------
    def connect(self) -> None:
        """Take the hub's name and start the link's threads: exit 2 when another process
        has the name, exit 1 when the site database cannot be reached."""
        try:
            self.link.start()
        except HubAlreadyRunning as exc:
            raise UsageError(f"{exc}{self.hint}") from None
        except psycopg.Error as exc:
            raise RuntimeFailure(f"cannot reach the site database: "
                                 f"{str(exc).strip().splitlines()[0]}") from None

    def begin(self) -> None:
        """On the engine's loop, once it runs: apply commands, publish every second."""
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        self._publisher = asyncio.create_task(self._every_second(), name="site publisher")

    async def _every_second(self) -> None:
        while True:
            self.link.publish([self.state(sid) for sid in self.labels])
            self.link.audio(self.audio())
            await asyncio.sleep(1.0)

    def close(self) -> None:
        """Publish the last state, say the hub stopped (every screen shows its booths as
        not monitored at once), close."""
        if self._publisher is not None and not self._publisher.get_loop().is_closed():
            self._publisher.cancel()
        self.link.publish([self.state(sid) for sid in self.labels])
        self.link.stop()


def hub_incidents(engine: Engine, records: Store, booths: list[str], log: IncidentLog
                  ) -> HubIncidents:
    """Responses logged on other screens, into this hub's incidents of its booths."""
    def station_of(iid: str) -> str | None:
        for booth in booths:  # an open incident: known without reading the database
            if records.current_incident(booth) == iid:
                return booth
        records.flush()
        record = records.get_incident(iid, with_trace=False)
        return None if record is None else record.station

    return HubIncidents(log, engine.clock, station_of)
