"""Builds an engine from command-line choices: the one place parts are put together."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from oximon.alerts import AlarmManager
from oximon.alerts.manager import Notifier
from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.clock import Clock
from oximon.config import ConfigError, SiteConfig, load_config
from oximon.drivers import SourceSpecError, open_source
from oximon.engine import Engine
from oximon.ports import Source
from oximon.profile import Profile, ProfileError, load_profile
from oximon.store import Store, StoreInputError, StoreUnavailable, open_store
from oximon.store.leases import LeaseConflict
from oximon.store.location import default_path
from oximon.types import Station

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
              f"{db}, not the site's log (give --db to choose)", file=sys.stderr)
    try:
        records = open_store(db, clock=clock, writer=True, start_offline=True,
                             resume_gap_s=resume_gap(profile))
    except StoreInputError as exc:
        raise UsageError(f"argument --db: {exc}") from None
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


def resume_gap(profile: Profile | None) -> float:
    """How long after a stop the next run may carry on with an open incident (the
    profile's [incidents] resume_gap_s; 0, the default: an interrupted incident is closed
    as interrupted)."""
    try:
        return float(profile["incidents"]["resume_gap_s"]) if profile is not None else 0.0
    except (KeyError, TypeError, ValueError):
        return 0.0


def close_records(records: Store, reason: str = "") -> None:
    """End a monitoring run's store; anything it could not write is exit 1, naming where
    the records are kept."""
    records.close(reason=reason)
    if records.unsaved:
        raise RuntimeFailure(f"records not saved: {records.unsaved}")


def build_engine(clock: Clock, profile: Profile,
                 stations: Sequence[tuple[Station, Source | None]],
                 records: Store | None = None, notify: Notifier | None = None) -> Engine:
    """`notify` receives every escalated alarm (a second screen, a supervisor)."""
    engine = Engine(clock, profile, partial(AlarmManager, notify=notify), records=records)
    for station, source in stations:
        engine.add_station(station, source)
        if records is not None:
            records.add_station(station)
    if records is not None:
        claim_booths(records, [station.id for station, _ in stations])
    return engine


def claim_booths(records: Store, booths: list[str]) -> None:
    """This run's booth ids are its own on the store: another live computer or process
    monitoring one of them is exit 2 naming the booth and the other computer."""
    try:
        records.claim_booths(booths)
    except LeaseConflict as exc:
        records.close(reason="booth_conflict")
        raise UsageError(str(exc)) from None
    except StoreUnavailable as exc:
        records.close(reason="booth_claim_failed")
        raise RuntimeFailure(str(exc)) from None
