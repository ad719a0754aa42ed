"""`oximon dashboard`: the live tile wall (Qt), running the same engine via qasync."""

from __future__ import annotations

import argparse

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.wiring import (
    build_engine,
    demo_specs,
    get_profile,
    open_records,
    open_sources,
)
from oximon.clock import ScaledClock


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="open the dashboard (the default command)",
                       description="Open the live dashboard. --demo uses simulated oximeters.")
    p.add_argument("--demo", action="store_true", help="simulated oximeters, no hardware")
    p.add_argument("--stations", type=_station_count, default=None, metavar="N",
                   help="how many simulated stations with --demo (1-24, default 6)")
    p.add_argument("--source", action="append", default=[], metavar="SRC",
                   help="a device or recording, as for 'oximon monitor'; repeat for more")
    p.add_argument("--speed", type=float, default=1.0, help=argparse.SUPPRESS)
    p.add_argument("--config", metavar="FILE", help="site configuration (TOML)")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--db", metavar="URL", help="incident store URL")
    p.add_argument("--kiosk", action="store_true", help="full screen, no window frame")
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
    specs = list(args.source)
    if args.demo or not specs:
        specs += demo_specs(args.stations or 6)
    elif args.stations is not None:
        raise UsageError("argument --stations: only with --demo")
    profile = get_profile(args.profile)
    stations = open_sources(specs)
    try:
        from ui.app import run_dashboard
    except ImportError as exc:  # Qt's system libraries missing: say which
        raise RuntimeFailure(f"cannot start the dashboard: {exc}. On Debian, install the "
                             "Qt runtime libraries (see README, 'System packages').") from None
    clock = ScaledClock(speed=args.speed)
    records = open_records(args.db, clock)
    engine = build_engine(clock, profile, stations, records)
    try:
        return run_dashboard(engine, kiosk=args.kiosk,
                             title="oximon — demo" if args.demo else None)
    finally:
        records.close()
