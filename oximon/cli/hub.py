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

from oximon.alerts import WatchdogThread
from oximon.cli import COMMANDS
from oximon.cli.errors import UsageError
from oximon.cli.hub_service import HubService
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
from oximon.site.schema import libpq_url
from oximon.store import StoreInputError

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
    service = HubService(engine, records, url, args.name, host, labels)
    print(f"oximon: hub {args.name} on {host}: {', '.join(booths)}", file=sys.stderr,
          flush=True)
    stops = StopSignals(engine.request_stop)
    try:
        asyncio.run(_serve(engine, service, stops, args.duration))
    except KeyboardInterrupt:  # a second signal while stopping: stop now
        pass
    finally:
        close_records(records, reason=stops.received or "")
    return 0


async def _serve(engine: Engine, service: HubService, stops: StopSignals,
                 duration: float | None) -> None:
    """Run the engine and the link; SIGTERM/SIGINT stop both cleanly (as `monitor`)."""
    stops.install()  # after asyncio.run's own SIGINT handler: ours stops cleanly
    try:
        await asyncio.to_thread(service.connect)
        service.begin()
        watchdog = WatchdogThread(engine, asyncio.get_running_loop(),
                                  on_stall=lambda e: log.error("%s", e.words)).start()
        try:
            await engine.run(duration=duration)
        finally:
            watchdog.stop()
            await asyncio.to_thread(service.close)
    finally:
        stops.restore()
