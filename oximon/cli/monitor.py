"""`oximon monitor`: the engine with no screen; JSON lines with --json."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from pathlib import Path

from oximon.cli.errors import UsageError
from oximon.cli.wiring import build_engine, get_profile, open_records, open_sources
from oximon.clock import ScaledClock
from oximon.recording import RecordingWriter
from oximon.types import EngineEvent


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="monitor sources with no screen (headless)",
                       description="Run the monitoring engine without a screen. Prints one "
                       "line per event (alarm, incident, device state).")
    p.add_argument("--source", action="append", required=True, metavar="SRC",
                   help="sim:SCENARIO[:SEED], replay:FILE.csv, ble:ADDRESS[:PROTOCOL] or "
                   "serial:PORT[:PROTOCOL]; repeat for several stations")
    p.add_argument("--duration", type=_positive, metavar="S",
                   help="stop after S seconds of (virtual) time; default: until sources end")
    p.add_argument("--speed", type=_positive, default=1.0, metavar="X",
                   help="run virtual time X times faster than real time")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--db", metavar="URL", help="incident store (default: SQLite in the "
                   "user data folder)")
    p.add_argument("--record", metavar="DIR", type=Path,
                   help="also write each station's readings as a recording CSV in DIR")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(run=run)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _human(event: EngineEvent) -> str:
    d = event.to_dict()
    what = d.get("condition") or d.get("words") or d.get("id") or ""
    extra = d.get("message") or d.get("detail") or ""
    prio = d.get("priority", "")
    return f"[{event.t:9.1f} s] {event.station or '-':<10} {event.type:<8} {event.state:<12} " \
           f"{prio:<6} {what} {('— ' + extra) if extra and extra != what else ''}".rstrip()


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    stations = open_sources(args.source, waveform=False)
    clock = ScaledClock(speed=args.speed)
    records = open_records(args.db, clock)
    engine = build_engine(clock, profile, stations, records)
    writers = []
    if args.record is not None:
        try:
            args.record.mkdir(parents=True, exist_ok=True)
            for station, _ in stations:
                writer = RecordingWriter(args.record / f"{station.id}.csv")
                writers.append(writer)
                engine.subscribe_samples(
                    lambda sid, s, w=writer, want=station.id: sid == want and w.write(s))
        except OSError as exc:
            raise UsageError(f"argument --record: cannot write in {args.record} ({exc})") from None

    def emit(event: EngineEvent) -> None:
        line = json.dumps(event.to_dict(), ensure_ascii=False) if args.json else _human(event)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    engine.subscribe(emit)
    try:
        asyncio.run(engine.run(duration=args.duration))
    except KeyboardInterrupt:
        pass
    finally:
        for writer in writers:
            writer.close()
        records.close()
    return 0
