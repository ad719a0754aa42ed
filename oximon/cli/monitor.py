"""`oximon monitor`: the engine with no screen; JSON lines with --json."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from oximon.alerts import WatchdogThread
from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.stop_signals import StopSignals
from oximon.cli.wiring import (
    MAX_SPEED,
    all_simulated,
    build_engine,
    close_records,
    get_profile,
    open_records,
    open_sources,
    positive_seconds,
    report_carried_on,
    speed_arg,
)
from oximon.clock import ScaledClock
from oximon.events import EngineEvent, to_json
from oximon.recording import RecordingWriter
from oximon.types import Sample, Station


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="monitor sources with no screen (headless)",
                       description="Run the monitoring engine without a screen. Prints one "
                       "line per event (alarm, incident, device state).")
    p.add_argument("--source", action="append", required=True, metavar="SRC",
                   help="sim:SCENARIO[:SEED], replay:FILE.csv, ble:ADDRESS[:PROTOCOL] or "
                   "serial:PORT[:PROTOCOL]; repeat for several stations")
    p.add_argument("--duration", type=positive_seconds, metavar="S",
                   help="stop after S seconds of (virtual) time; default: until sources end")
    p.add_argument("--speed", type=speed_arg, default=1.0, metavar="X",
                   help=f"run virtual time X times faster than real time (at most "
                   f"{MAX_SPEED:g})")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--db", metavar="URL", help="incident store (default: SQLite in the "
                   "user data folder)")
    p.add_argument("--record", metavar="DIR", type=Path,
                   help="also write each station's readings as a recording CSV in DIR")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(run=run)


def _human(event: EngineEvent) -> str:
    d = to_json(event)
    what = d.get("condition") or d.get("words") or d.get("id") or ""
    extra = d.get("message") or d.get("detail") or ""
    prio = d.get("priority", "")
    return f"[{event.t:9.1f} s] {event.station or '-':<10} {event.kind:<8} {event.state:<12} " \
           f"{prio:<6} {what} {('— ' + extra) if extra and extra != what else ''}".rstrip()


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    stations = open_sources(args.source, waveform=False)
    clock = ScaledClock(speed=args.speed, held=True)  # no virtual time lost to set-up
    records = open_records(args.db, clock, demo=all_simulated(stations), profile=profile)
    try:
        writers = open_recorders(args.record, [st for st, _ in stations])
    except UsageError:
        records.close()
        raise
    engine = build_engine(clock, profile, stations, records)
    report_carried_on(records, stations)
    for writer, (station, _) in zip(writers, stations, strict=False):
        engine.subscribe_samples(_record_into(writer, station.id))

    out_lock = threading.Lock()  # the watchdog thread prints too
    closed = threading.Event()  # the reader went away (`| head`): stop quietly

    def emit(event: EngineEvent) -> None:
        if closed.is_set():
            return
        line = json.dumps(to_json(event), ensure_ascii=False) if args.json else _human(event)
        with out_lock:
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                closed.set()
                _discard_stdout()
                engine.request_stop()

    async def main() -> None:
        # A stalled loop cannot report itself: the watchdog thread prints a status line at
        # once and hands "monitoring_stopped" to the alarms for when the loop runs again.
        watchdog = WatchdogThread(engine, asyncio.get_running_loop(), on_stall=emit).start()
        stops.install()  # after asyncio.run's own SIGINT handler: ours stops cleanly
        try:
            await engine.run(duration=args.duration)
        finally:
            watchdog.stop()
            stops.restore()

    engine.subscribe(emit)
    stops = StopSignals(engine.request_stop)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        for writer in writers:
            writer.close()
        close_records(records, reason=stops.received or "")
    if engine.failed and not closed.is_set():
        why = "; ".join(f"{sid}: {msg}" for sid, msg in engine.failed.items())
        every = len(engine.failed) == len(stations)
        raise RuntimeFailure(f"monitoring stopped: {'every' if every else 'a'} source's "
                             f"reader failed ({why})")
    return 0


def open_recorders(folder: Path | None, stations: list[Station]) -> list[RecordingWriter]:
    """`--record DIR`: one recording per station (DIR/<station>.csv). A recording already
    there is never overwritten: exit 2 naming it, before anything is written."""
    if folder is None:
        return []
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"argument --record: {folder} is a file; give a folder to write "
                         "the recordings in")
    paths = [folder / f"{station.id}.csv" for station in stations]
    taken = [p for p in paths if p.exists()]
    if taken:
        raise UsageError(f"argument --record: {taken[0]} already exists (a recording of an "
                         "earlier run?); choose another folder or move it away")
    writers: list[RecordingWriter] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in paths:
            writers.append(RecordingWriter(path))
    except OSError as exc:
        for writer in writers:
            writer.close()
        raise UsageError(f"argument --record: cannot write in {folder} "
                         f"({exc.strerror or exc})") from None
    return writers


def _record_into(writer: RecordingWriter, station: str) -> Callable[[str, Sample], None]:
    """A sample listener that writes one station's readings."""
    def write(sid: str, sample: Sample) -> None:
        if sid == station:
            writer.write(sample)
    return write


def _discard_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests): nothing to protect
        pass
