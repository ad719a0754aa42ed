"""`oximon dashboard`: the live tile wall (Qt), running the same engine via qasync."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.stop_signals import StopSignals
from oximon.cli.wiring import (
    all_simulated,
    build_engine,
    check_display,
    close_records,
    configured_stations,
    demo_specs,
    get_config,
    get_profile,
    open_records,
    open_sources,
    positive_seconds,
    report_carried_on,
    speed_arg,
)
from oximon.clock import ScaledClock
from oximon.config import SiteConfig
from oximon.ports import Source
from oximon.store import StoreUnavailable
from oximon.types import Station


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="open the dashboard (the default command)",
                       description="Open the live dashboard. --demo uses simulated oximeters.")
    p.add_argument("--demo", action="store_true", help="simulated oximeters, no hardware")
    p.add_argument("--stations", type=_station_count, default=None, metavar="N",
                   help="how many simulated stations with --demo (1-24, default 6)")
    p.add_argument("--source", action="append", default=[], metavar="SRC",
                   help="a device or recording, as for 'oximon monitor'; repeat for more")
    p.add_argument("--speed", type=speed_arg, default=1.0, help=argparse.SUPPRESS)
    p.add_argument("--config", metavar="FILE", help="site configuration (TOML)")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--db", metavar="URL", help="incident store URL")
    hub = p.add_mutually_exclusive_group()
    hub.add_argument("--hub", metavar="NAME", help="with a site file: this computer is hub "
                     "NAME (default: the hub named as this computer's host name, if any); "
                     "its booths run here and are published for every other screen")
    hub.add_argument("--no-hub", action="store_true",
                     help="with a site file: only watch, even on a hub's computer (its "
                     "booths run on 'oximon hub')")
    p.add_argument("--kiosk", action="store_true", help="full screen, no window frame")
    p.add_argument("--high-contrast", action="store_true", help="black and white, thick borders")
    p.add_argument("--duration", type=positive_seconds, default=None, help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def _station_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= n <= 24:
        raise argparse.ArgumentTypeError(f"{n} stations: choose 1 to 24")
    return n


def run(args: argparse.Namespace) -> int:
    if args.stations is not None and not args.demo:
        raise UsageError("argument --stations: only with --demo")
    config = get_config(args.config)
    specs = list(args.source)
    # No devices and no site named: the demo. A site file named with --config but with no
    # booths yet opens an empty wall to pair devices on.
    demo = args.demo or (not specs and not config.stations and args.config is None)
    if demo:
        specs += demo_specs(args.stations or 6)
    profile = get_profile(args.profile or config.profile or None)
    stations: list[tuple[Station, Source | None]] = (
        list(open_sources(specs)) if specs else configured_stations(config))
    # Qt's multimedia backend lists every codec library it could not load; that is noise to
    # a peer worker (a missing audio output is reported on screen as an alarm instead).
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.qpa.*.warning=false")
    check_display()
    try:
        from oximon.ui.app import run_dashboard
    except ImportError as exc:  # Qt's system libraries missing: say which
        raise RuntimeFailure(f"cannot start the dashboard: {exc}. On Debian, install the "
                             "Qt runtime libraries (see README, 'System packages').") from None
    from oximon.cli.dashboard_services import build_services
    from oximon.ui.dashboard import DashboardOptions

    # A site of several computers: the hubs' booths on this screen too (oximon.cli.site_view).
    site = None
    if not specs and config.hubs():
        from oximon.cli.site_view import SiteView

        site = SiteView(config, own_hub(config, args.hub, args.no_hub))
        stations = site.stations(stations)
    clock = ScaledClock(speed=args.speed)
    records = open_records(args.db or config.db or None, clock, demo=all_simulated(stations),
                           profile=profile)
    engine = (build_engine(clock, profile, stations, records) if site is None
              else site.build_engine(clock, profile, stations, records))
    report_carried_on(records, stations)

    def start_alarm_outputs() -> None:
        # Sound (or the "sound unavailable" alarm) and the watchdog, once the window listens.
        from oximon.alerts import WatchdogThread, attach_sound
        from oximon.ui.sound import QtSoundSink

        attach_sound(engine, QtSoundSink())
        if site is not None:
            site.begin()  # this computer's hub (if it is one) serves from now on
        WatchdogThread(engine, asyncio.get_running_loop(),
                       on_stall=lambda e: logging.getLogger("oximon.watchdog").error(
                           "%s", e.words)).start()

    # Which profile this run watches with (a supervisor's saved one, the site's, ...).
    # Not saved yet when the store is down: kept with the backlog (and journal) until it is
    # back; monitoring goes on.
    with contextlib.suppress(StoreUnavailable):
        records.record_audit("settings.profile_loaded", None,
                             {"profile": profile.name, "path": profile.source})
    options = DashboardOptions(high_contrast=args.high_contrast, site=config.name)
    stops = StopSignals(engine.request_stop).install()  # SIGTERM/SIGINT: a clean stop
    try:
        # A remote booth's responses go to its hub's incident (oximon.site.incidents).
        services = build_services(engine, incident_log=records if site is None
                                  else site.incident_log(records),
                                  **seams(engine, records, profile, config, demo,
                                          from_config=not specs))
        return run_dashboard(engine, services, kiosk=args.kiosk,
                             title="oximon — demo (simulated oximeters)" if demo
                             else config.name,
                             duration=args.duration, options=options,
                             on_start=start_alarm_outputs)
    finally:
        if site is not None:
            site.stop()
        stops.restore()
        close_records(records, reason=stops.received or "")


def own_hub(config: SiteConfig, name: str | None, no_hub: bool) -> str | None:
    """Which hub of the site this computer is: `--hub NAME` (exit 2 if the file names no
    such hub), none with `--no-hub`, else the hub named as this computer's host name."""
    hubs = config.hubs()
    if no_hub:
        return None
    if name is not None:
        if name not in hubs:
            raise UsageError(f"argument --hub: {config.path} names no hub {name!r} "
                             f"(hubs: {', '.join(sorted(hubs)) or 'none'})")
        return name
    host = socket.gethostname()
    return host if host in hubs else None


def seams(engine, records, profile, config, demo: bool, from_config: bool) -> dict:
    """What the window needs besides the engine: supervisor mode audited in the store (one
    session for settings and review), the store as review backend and settings audit,
    discovery on the real drivers (plus simulated oximeters in the demo), and — when the
    stations came from the site file — a station book that saves pairing and renames."""
    from oximon.cli.discovery import hardware_discovery
    from oximon.cli.review import build_session
    from oximon.profile_book import ProfileBook
    from oximon.review_store import StoreReview
    from oximon.station_book import StationBook
    from oximon.ui.devices import simulated_discovery
    from oximon.ui.settings import StoreAuditSink

    review = StoreReview(records)
    return {
        "session": build_session(review, profile["review"]["lock_after_s"]),
        "review": review,
        "audit": StoreAuditSink(records),
        "discover": hardware_discovery(
            engine, also=simulated_discovery(engine) if demo else None),
        "station_book": StationBook(config) if from_config and not demo else None,
        "save_profile": None if demo else ProfileBook(config).save,
    }
