"""What the site tests share: a site file on a scratch PostgreSQL database, hub processes,
`oximon` commands as processes, and a patient wait (the machine is shared)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from oximon.store.scratch import scratch_database

PG_URL = os.environ.get("OXIMON_TEST_PG_URL")
ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
FOUR_BOOTHS = [("room-1", "rapid-desat"), ("room-1", "normal"), ("room-2", "normal"),
               ("room-2", "normal")]


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll until `check` returns something truthy (generous: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def site_text(url: str, booths: Sequence[tuple[str, str]] = FOUR_BOOTHS) -> str:
    """A site file: booth-N ("Booth N") on hub and simulated scenario as given."""
    lines = ["[site]", 'name = "Test site"', f'db = "{url}"']
    for i, (hub, scenario) in enumerate(booths, 1):
        lines += ["[[stations]]", f'id = "booth-{i}"', f'alias = "Booth {i}"',
                  f'hub = "{hub}"', f'source = "sim:{scenario}:{i}"']
    return "\n".join(lines) + "\n"


@contextmanager
def scratch_site(tmp_path: Path, booths: Sequence[tuple[str, str]] = FOUR_BOOTHS
                 ) -> Iterator[tuple[Path, str]]:
    """(site file, database URL) on a database of its own, dropped after."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: eval \"$(bash .ci/start-postgres)\"")
    with scratch_database(PG_URL, prefix="oximon_site") as url:
        path = tmp_path / "site.toml"
        path.write_text(site_text(url, booths))
        yield path, url


def oximon(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oximon", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


def start_hub(config: Path, name: str, speed: str = "20", *more: str) -> subprocess.Popen[str]:
    """A hub process; what it says goes to a file beside the site file (a pipe nobody
    reads could fill up and stop it)."""
    log = open(config.parent / f"{name}.log", "a")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen([sys.executable, "-m", "oximon", "hub", "--config", str(config),
                             "--name", name, "--speed", speed, *more], cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=log)


def stop(proc: subprocess.Popen[str], log: Path | None = None) -> None:
    """SIGTERM (a clean stop), kill if it hangs; print what it said (shown on failure)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if log is not None and log.exists():
        print(f"{log.name} (exit {proc.returncode}):\n{log.read_text()}")


def rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


class Viewer:
    """A dashboard of the site on this computer, without its window: the engine, and the
    services (the incident log) exactly as `oximon dashboard --config SITE` builds them."""

    def __init__(self, config_path: Path, url: str, profile: Path | None = None):
        from oximon.cli.dashboard_services import build_services
        from oximon.cli.site_view import SiteView
        from oximon.cli.wiring import configured_stations, get_config
        from oximon.clock import ScaledClock
        from oximon.profile import load_profile
        from oximon.store import open_store

        config = get_config(str(config_path))
        self.view = SiteView(config)
        stations = self.view.stations(configured_stations(config, waveform=False))
        self.clock = ScaledClock(speed=1.0)
        self.records = open_store(url, clock=self.clock, writer=True)
        self.engine = self.view.build_engine(self.clock, load_profile(profile), stations,
                                             self.records)
        self.services = build_services(self.engine, incident_log=self.view.incident_log(
            self.records), audit=lambda entry: None)

    def close(self) -> None:
        self.view.stop()
        self.records.close()


def while_running(engines: Sequence[Any], body: Callable[[], Awaitable[None]]) -> None:
    """Run the engines (the screens of a test) while `body` acts and checks; then stop
    them, whatever happened."""
    async def main() -> None:
        runs = [asyncio.create_task(e.run()) for e in engines]
        try:
            await body()
        finally:
            for e in engines:
                e.request_stop()
            await asyncio.gather(*runs)

    asyncio.run(main())
