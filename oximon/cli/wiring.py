"""Builds an engine from command-line choices: the one place parts are put together."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from oximon.alarms import RestoredAlarm
from oximon.alerts import AlarmManager
from oximon.alerts.manager import Notifier
from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.clock import Clock
from oximon.config import ConfigError, SiteConfig, load_config
from oximon.drivers import SourceSpecError, open_source
from oximon.engine import Engine
from oximon.ports import Source
from oximon.profile import Profile, ProfileError, load_profile
from oximon.store import IncidentQuery, Store, StoreInputError, StoreUnavailable, open_store
from oximon.store.leases import LeaseConflict
from oximon.store.location import default_path
from oximon.types import Priority, Station

# What the demo dashboard shows, station by station: mostly calm people, a few in trouble,
# and each kind of device problem, so every tile state can be seen at once.
DEMO_LINEUP = [
    "normal", "slow-desat", "normal", "motion", "finger-out", "normal", "rapid-desat",
    "disconnect", "normal", "bradycardia", "low-battery", "apnea", "normal", "mixed",
    "normal", "motion", "normal", "finger-out", "normal", "slow-desat", "normal", "mixed",
    "normal", "normal",
]


MAX_SPEED = 10_000.0  # a day of virtual time in under 10 s; beyond this nothing keeps up


def speed_arg(text: str) -> float:
    """argparse type for `--speed X`: a finite number in (0, MAX_SPEED]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 < value <= MAX_SPEED):
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose a speed above 0 and at most {MAX_SPEED:g}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type for a duration: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def get_profile(name: str | None) -> Profile:
    try:
        return load_profile(name)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def open_sources(specs: list[str], waveform: bool = True) -> list[tuple[Station, Source]]:
    """Each spec becomes a station named by its transport and position: sim-1, replay-1..."""
    out: list[tuple[Station, Source]] = []
    counts: dict[str, int] = {}
    for spec in specs:
        try:
            source = open_source(spec, waveform)
        except SourceSpecError as exc:
            raise UsageError(f"argument --source: {exc}") from None
        kind = source.info.transport
        counts[kind] = counts.get(kind, 0) + 1
        sid = f"{kind}-{counts[kind]}"
        out.append((Station(sid, alias=f"Booth {len(out) + 1}", booth=str(len(out) + 1),
                            device=source.info), source))
    return out


def get_config(path: str | None) -> SiteConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def configured_stations(cfg: SiteConfig,
                        waveform: bool = True) -> list[tuple[Station, Source | None]]:
    """The site's booths; a booth with no device assigned still gets its tile."""
    out: list[tuple[Station, Source | None]] = []
    for sc in cfg.stations:
        source = None
        if sc.source:
            try:
                source = open_source(sc.source, waveform)
            except SourceSpecError as exc:
                where = f"{cfg.path}: station {sc.id!r}, key 'source'"
                raise UsageError(f"{where}: {exc}") from None
        out.append((Station(sc.id, alias=sc.alias or sc.id, booth=sc.booth or sc.id,
                            device=source.info if source else None), source))
    return out


def demo_specs(stations: int) -> list[str]:
    return [f"sim:{DEMO_LINEUP[i % len(DEMO_LINEUP)]}:{i + 1}" for i in range(stations)]


DEMO_STORE_FILENAME = "oximon-demo.sqlite3"
SIMULATED_TRANSPORTS = ("sim", "replay")


def demo_store_path() -> Path:
    """Where simulated and replayed runs keep their incidents: beside the real log, never
    in it (a practice run must not count in a month's report)."""
    return default_path().with_name(DEMO_STORE_FILENAME)


def all_simulated(stations: Sequence[tuple[Station, Source | None]]) -> bool:
    """Every station watches a simulator or a recording (nothing a real person wears)."""
    return bool(stations) and all(
        st.device is not None and st.device.transport in SIMULATED_TRANSPORTS
        for st, _ in stations)


def db_message(exc: Exception) -> str:
    """The store names `--db` itself in some messages ("--db 'x': ..."): say it once."""
    text = str(exc)
    return text[len("--db "):] if text.startswith("--db ") else text


def open_db(db: str | None, *, clock: Clock | None = None, writer: bool = False,
            create: bool | None = None) -> Store:
    """The store behind `--db` (None: the default file). A bad database is exit 2 naming
    --db and is left unchanged; an unreachable one exit 1."""
    try:
        return open_store(db, clock=clock, writer=writer, create=create)
    except StoreInputError as exc:
        raise UsageError(f"argument --db: {db_message(exc)}") from None
    except StoreUnavailable as exc:
        raise RuntimeFailure(str(exc)) from None


def open_records(db: str | None, clock: Clock, demo: bool = False,
                 profile: Profile | None = None) -> Store:
    """The incident store for a monitoring run (`--db`, default: SQLite in the user data
    folder; with `demo` and no `--db`, the separate demo store, said once on stderr). A
    bad database is exit 2 and is left unchanged. An unreachable one (disk full, server
    down) does not stop monitoring: the run starts with "Records are not being saved" up,
    keeps records in the recovery journal and writes them when the store comes back."""
    if demo and not db:
        db = str(demo_store_path())
        print(f"oximon: simulated or replayed sources only: incidents go to the demo store "
              f"{db}, not the site's log (see them with 'oximon incidents list --demo'; "
              "give --db to choose)", file=sys.stderr)
    try:
        records = open_store(db, clock=clock, writer=True, start_offline=True,
                             resume_gap_s=resume_gap(profile), simulated=demo)
    except StoreInputError as exc:
        raise UsageError(f"argument --db: {db_message(exc)}") from None
    except StoreUnavailable as exc:
        raise RuntimeFailure(str(exc)) from None
    if not records.saving_ok:
        print(f"oximon: RECORDS ARE NOT BEING SAVED: {records.failure}. Monitoring starts "
              "anyway; records are kept in the recovery journal until the store is back.",
              file=sys.stderr)
    for kept in records.replayed:
        print(f"oximon: wrote the records an earlier run could not save ({kept})",
              file=sys.stderr)
    return records


def add_store_options(p: argparse.ArgumentParser) -> None:
    """`--db` and `--demo`, as every command that reads the incident log has them."""
    p.add_argument("--db", metavar="URL", help="incident store: a SQLite file path, "
                   "sqlite:///FILE or postgresql://USER@HOST/DB (default: SQLite in the user "
                   "data folder)")
    p.add_argument("--demo", action="store_true", help="the demo store, where simulated and "
                   "replayed runs keep their incidents")


def store_choice(args: argparse.Namespace) -> str | None:
    """What `--db`/`--demo` name: a URL, the demo store, or None for the site's log."""
    if args.demo and args.db:
        raise UsageError("argument --demo: not with --db (--demo is the demo store)")
    return str(demo_store_path()) if args.demo else args.db


def demo_hint(args: argparse.Namespace, found: int) -> None:
    """The site's log had nothing to show but the demo store has incidents: say where they
    are (a new user's first monitor run is simulated; its incidents are not in the log)."""
    if found or args.demo or args.db:
        return
    n = demo_incident_count()
    if n:
        print(f"oximon: none in the site's incident log; simulated and replayed runs keep "
              f"theirs in the demo store ({n} incident{'s' * (n != 1)} there): add --demo",
              file=sys.stderr)


def demo_incident_count() -> int:
    """How many incidents the demo store holds (0 when there is none or it cannot be read)."""
    path = demo_store_path()
    if not path.is_file():
        return 0
    try:
        store = open_store(str(path), writer=False, create=False)
    except (StoreInputError, StoreUnavailable):
        return 0
    try:
        return store.count_incidents(IncidentQuery())
    except StoreUnavailable:
        return 0
    finally:
        store.close()


def report_carried_on(records: Store, stations: Sequence[tuple[Station, Source | None]]
                      ) -> None:
    """What became of the incidents an earlier run left open: carried on with (within the
    profile's resume gap) or closed as interrupted at its stop. Said on stderr, since no
    "incident" line is printed for either."""
    demo = " --demo" if records.target.path == demo_store_path() else ""
    for station, _ in stations:
        iid = records.current_incident(station.id)
        if iid:
            print(f"oximon: {station.id}: carrying on with incident {iid}, left open by an "
                  f"earlier run (the gap is recorded; see 'oximon incidents show {iid}"
                  f"{demo}')", file=sys.stderr)
    for iid, booth in records.interrupted_at_start().items():
        print(f"oximon: {booth}: incident {iid}, left open when an earlier run stopped, "
              f"was closed as interrupted; a supervisor completes and signs it off (see "
              f"'oximon incidents show {iid}{demo}')", file=sys.stderr)


def check_display(what: str = "the dashboard") -> None:
    """With no screen Qt aborts the process (exit 134, "could not connect to display"):
    say what to do instead, before Qt is loaded."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return  # Windows/macOS always have a screen; an explicit platform is a choice
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise RuntimeFailure(
        f"no screen to show {what} on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
        "Start it from a desktop session (or over 'ssh -X'); " + _WITHOUT_SCREEN[what]
        + "; to run it off-screen (tests, screenshots) set QT_QPA_PLATFORM=offscreen.")


_WITHOUT_SCREEN = {
    "the dashboard": "to watch without a screen use 'oximon monitor --source ...'",
    "the review window": "without a screen, 'oximon incidents list|show|export' and "
                         "'oximon report' give the same records",
}


def resume_gap(profile: Profile | None) -> float:
    """How long after a stop the next run may carry on with an open incident (the
    profile's [incidents] resume_gap_s; 0, the default: an interrupted incident is closed
    as interrupted)."""
    return float(profile["incidents"]["resume_gap_s"]) if profile is not None else 0.0


def close_records(records: Store, reason: str = "") -> None:
    """End a monitoring run's store; anything it could not write is exit 1, naming where
    the records are kept."""
    records.close(reason=reason)
    demo = " --demo" if records.target.path == demo_store_path() else ""
    for iid, booth in records.closed_at_stop().items():
        print(f"oximon: {booth}: incident {iid} was still open when monitoring stopped: "
              f"closed as interrupted; a supervisor completes and signs it off (see "
              f"'oximon incidents show {iid}{demo}')", file=sys.stderr)
    if records.unsaved:
        raise RuntimeFailure(f"records not saved: {records.unsaved}")

def build_engine(clock: Clock, profile: Profile,
                 stations: Sequence[tuple[Station, Source | None]],
                 records: Store | None = None, notify: Notifier | None = None,
                 owner: str | None = None) -> Engine:
    """`notify` receives every escalated alarm (a second screen, a supervisor); `owner`
    names who holds the booths' leases for others to see (a site hub's name; default
    this run's host:pid:session)."""
    engine = Engine(clock, profile, partial(AlarmManager, notify=notify), records=records)
    for station, source in stations:
        engine.add_station(station, source)
        if records is not None:
            records.add_station(station)
    if records is not None:
        claim_booths(records, [station.id for station, _ in stations], owner)
    if records is not None and not all_simulated(stations):
        # Real people only: a simulated or replayed run starts a new simulated guest.
        restore_latched_alarms(engine, records)
    return engine


def restore_latched_alarms(engine: Engine, records: Store) -> None:
    """An interrupted incident's unacknowledged high alarm comes back latched (escalated
    if it was). A store that cannot be read now (monitoring started without storage)
    cannot say which: said on stderr, and monitoring goes on."""
    try:
        kept = records.unacknowledged_high_alarms()
    except StoreUnavailable as exc:
        print(f"oximon: cannot read the alarms an earlier run left unacknowledged ({exc}); "
              "check the booths it was monitoring", file=sys.stderr)
        return
    engine.restore_alarms([
        RestoredAlarm(a["station"], a["condition"], Priority.HIGH, a["message"], a["value"],
                      a["worst"], a["escalated"])
        for a in kept if a["station"] in engine.stations])


def claim_booths(records: Store, booths: list[str], owner: str | None = None) -> None:
    """This run's booth ids are its own on the store: another live computer or process
    monitoring one of them is exit 2 naming the booth and the other computer."""
    try:
        records.claim_booths(booths, owner)
    except LeaseConflict as exc:
        records.close(reason="booth_conflict")
        raise UsageError(str(exc)) from None
    except StoreUnavailable as exc:
        records.close(reason="booth_claim_failed")
        raise RuntimeFailure(str(exc)) from None
