"""`oximon hub`: run one computer's booths of a site, headless, and publish them.

The booths whose `hub` is NAME in the site file run here exactly as `oximon monitor` runs
them (same engine, alarm manager, incident store on the site's PostgreSQL); the hub takes
their leases, publishes their live state and a heartbeat, and applies acknowledgements
and audio pauses that arrive from any screen. Made to run as a service: SIGTERM (and
Ctrl-C) stop it cleanly — queued state published, "hub stopped" said to every screen,
leases released, records flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys

import psycopg

from oximon.alerts import WatchdogThread
from oximon.cli import COMMANDS
from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.stop_signals import StopSignals
from oximon.cli.wiring import (
    build_engine,
    close_records,
    configured_stations,
    get_config,
    get_profile,
    open_records,
    positive_seconds,
    report_carried_on,
    speed_arg,
)
from oximon.clock import ScaledClock
from oximon.config import SiteConfig
from oximon.engine import Engine
from oximon.events import AlarmEvent, AudioPaused, AudioResumed, EngineEvent
from oximon.incident_log import StoreIncidentLog
from oximon.site.commands import Command
from oximon.site.hub import Audio, HubAlreadyRunning, HubLink, apply_command
from oximon.site.incidents import HubIncidents
from oximon.site.schema import libpq_url
from oximon.site.state import BoothState
from oximon.store import Store, StoreInputError

log = logging.getLogger("oximon.hub")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hub", help=COMMANDS["hub"],
                       description="Run the booths whose 'hub' is NAME in the site file, with "
                       "no screen, and publish them to every screen of the site through the "
                       "site's PostgreSQL ([site] db). Stops cleanly on SIGTERM.")
    p.add_argument("--config", required=True, metavar="SITE", help="site configuration (TOML)")
    p.add_argument("--name", required=True, metavar="NAME", help="this hub's name in the file")
    p.add_argument("--speed", type=speed_arg, default=1.0, metavar="X",
                   help="run virtual time X times faster (simulated booths only)")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--duration", type=positive_seconds, default=None, help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def site_url(config: SiteConfig) -> str:
    """The site database as libpq takes it; exit 2 naming the key when it is not usable."""
    if not config.db:
        raise UsageError(f"{config.path}: key 'site.db' is missing: a site of several computers "
                         "needs [site] db = \"postgresql://...\"")
    try:
        return libpq_url(config.db)
    except StoreInputError as exc:
        raise UsageError(f"{config.path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    config = get_config(args.config)
    url = site_url(config)
    mine = [s for s in config.stations if s.hub == args.name]
    if not mine:
        named = ", ".join(sorted(config.hubs())) or "none"
        raise UsageError(f"{config.path}: no [[stations]] with hub = {args.name!r} "
                         f"(hubs named in the file: {named})")
    profile = get_profile(args.profile or config.profile or None)
    stations = configured_stations(SiteConfig(path=config.path, stations=mine), waveform=False)
    booths = [st.id for st, _ in stations]
    labels = {st.id: st.label for st, _ in stations}
    host = socket.gethostname()
    clock = ScaledClock(speed=args.speed, held=True)
    records = open_records(config.db, clock, profile=profile)
    # One claim, made by build_engine as for every monitoring run, under the hub's name:
    # another live process with this name or these booths is exit 2 naming the booth and
    # its computer; a hub killed with -9 is taken over at once (audited).
    engine = build_engine(clock, profile, stations, records, owner=args.name)
    report_carried_on(records, stations)
    loop_box: list[asyncio.AbstractEventLoop] = []

    incidents = hub_incidents(engine, records, booths)

    def apply(cmd: Command) -> str:  # on the link's command thread
        future = asyncio.run_coroutine_threadsafe(_on_loop(engine, cmd, incidents),
                                                  loop_box[0])
        result = future.result(timeout=10.0)
        records.record_audit(f"site.{cmd.action}", cmd.booth, {
            "from_host": cmd.from_host, "hub": args.name, "command": cmd.id,
            "result": result}, cmd.by)
        return result

    link = HubLink(url, args.name, host, booths, apply)
    _publish_on_events(engine, link, labels)
    print(f"oximon: hub {args.name} on {host}: {', '.join(booths)}", file=sys.stderr,
          flush=True)
    stops = StopSignals(engine.request_stop)
    try:
        asyncio.run(_serve(engine, link, labels, loop_box, stops, args.duration))
    except KeyboardInterrupt:  # a second signal while stopping: stop now
        pass
    finally:
        close_records(records, reason=stops.received or "")
    return 0


async def _on_loop(engine: Engine, cmd: Command, incidents: HubIncidents) -> str:
    return apply_command(engine, cmd, incidents)


def hub_incidents(engine: Engine, records: Store, booths: list[str]) -> HubIncidents:
    """Responses logged on other screens, into this hub's incidents of its booths."""
    def station_of(iid: str) -> str | None:
        for booth in booths:  # an open incident: known without reading the database
            if records.current_incident(booth) == iid:
                return booth
        records.flush()
        record = records.get_incident(iid, with_trace=False)
        return None if record is None else record.station

    return HubIncidents(StoreIncidentLog(records), engine.clock, station_of)


def _publish_on_events(engine: Engine, link: HubLink, labels: dict[str, str]) -> None:
    """An alarm or device change of a booth is published at once (numbers wait for the
    once-a-second publication); an audio pause or resume goes with the next heartbeat."""
    def heard(event: EngineEvent) -> None:
        if isinstance(event, AudioPaused | AudioResumed):
            link.audio(_audio(engine))
            return
        station = event.station
        if station in labels:
            link.publish([_state(engine, link, labels, station)])
        if isinstance(event, AlarmEvent):
            log.info("%s %s %s %s", event.station, event.state, event.priority.label,
                     event.condition)
    engine.subscribe(heard)


def _state(engine: Engine, link: HubLink, labels: dict[str, str], sid: str) -> BoothState:
    return link.state_of(engine.stations[sid], engine.alarms.active_alarms(),
                         engine.clock.now(), labels[sid])


def _audio(engine: Engine) -> Audio:
    left = engine.alarms.pause_remaining(engine.clock.now()) / max(engine.clock.speed, 1e-9)
    return Audio(engine.alarms.paused_by if left > 0 else "", round(left, 1))


async def _serve(engine: Engine, link: HubLink, labels: dict[str, str],
                 loop_box: list[asyncio.AbstractEventLoop], stops: StopSignals,
                 duration: float | None) -> None:
    """Run the engine and the link; SIGTERM/SIGINT stop both cleanly (as `monitor`)."""
    loop = asyncio.get_running_loop()
    loop_box.append(loop)
    stops.install()  # after asyncio.run's own SIGINT handler: ours stops cleanly
    try:
        await _serve_linked(engine, link, labels, loop, duration)
    finally:
        stops.restore()


async def _serve_linked(engine: Engine, link: HubLink, labels: dict[str, str],
                        loop: asyncio.AbstractEventLoop, duration: float | None) -> None:
    try:
        link.start()
    except HubAlreadyRunning as exc:
        raise UsageError(str(exc)) from None
    except psycopg.Error as exc:
        raise RuntimeFailure(f"cannot reach the site database: "
                             f"{str(exc).strip().splitlines()[0]}") from None
    watchdog = WatchdogThread(engine, loop, on_stall=lambda e: log.error("%s", e.words)).start()

    async def every_second() -> None:
        while True:
            link.publish([_state(engine, link, labels, sid) for sid in labels])
            link.audio(_audio(engine))
            await asyncio.sleep(1.0)

    publisher = asyncio.create_task(every_second(), name="site publisher")
    try:
        await engine.run(duration=duration)
    finally:
        publisher.cancel()
        watchdog.stop()
        link.publish([_state(engine, link, labels, sid) for sid in labels])
        await asyncio.to_thread(link.stop)
