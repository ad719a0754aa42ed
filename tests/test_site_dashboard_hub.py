"""A dashboard on the computer named as a hub is that hub: its booths run there as local
booths and are published for every other screen exactly as `oximon hub` publishes them
(heartbeat, live state, acknowledgements from other screens applied there). Real
processes: the dashboard (Qt, off-screen) and another hub, on a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from oximon.cli.dashboard import own_hub
from oximon.cli.errors import UsageError
from oximon.config import load_config
from oximon.site.viewer import SiteWatch
from tests.sitekit import ROOT, oximon, scratch_site, site_text, start_hub, stop, wait_for


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with scratch_site(tmp_path) as made:
        yield made


def start_dashboard(config: Path, *args: str) -> subprocess.Popen[str]:
    log = open(config.parent / "dashboard.log", "a")  # noqa: SIM115 - the child keeps it
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-m", "oximon", "dashboard", "--config",
                             str(config), "--speed", "10", "--duration", "3000", *args],
                            cwd=ROOT, text=True, env=env, stdout=subprocess.DEVNULL,
                            stderr=log)


@pytest.mark.postgres
def test_a_dashboard_on_a_hubs_computer_is_that_hub(site: tuple[Path, str]) -> None:
    config, url = site
    screen = start_dashboard(config, "--hub", "room-1")
    other = start_hub(config, "room-2")
    watch = SiteWatch(url, "test").start()
    try:
        def room1_alarm() -> bool:
            assert screen.poll() is None, "the dashboard stopped"
            s = watch.snapshot()
            hub = s.hubs.get("room-1")
            st = s.booths.get("booth-1")
            return bool(hub and hub.alive and st and st.top_alarm() and "booth-2" in s.booths
                        and s.booths["booth-2"].spo2 is not None)

        wait_for("room-1's booths published by the dashboard, booth-1 alarming", room1_alarm,
                 120.0)
        assert watch.snapshot().hubs["room-1"].host == socket.gethostname()
        done = oximon("site", "ack", "booth-1", "--config", str(config), "--by", "Sam")
        assert done.returncode == 0, done.stderr
        assert "acknowledged" in done.stdout
        with psycopg.connect(url) as conn:
            actors = {r[0] for r in conn.execute(
                "SELECT actor FROM alarm_log WHERE station = 'booth-1' AND state = "
                "'acknowledged'")}
            owners: dict[str, str] = dict(conn.execute(
                "SELECT booth, owner FROM booth_leases").fetchall())
        assert any(a.startswith("Sam (at ") for a in actors)
        assert owners["booth-1"] == owners["booth-2"] == "room-1"
        # The name is taken: `oximon hub --name room-1` elsewhere is refused (exit 2).
        twin = oximon("hub", "--config", str(config), "--name", "room-1")
        assert twin.returncode == 2, twin.stderr
        screen.send_signal(signal.SIGTERM)
        assert screen.wait(60) == 0
        wait_for("room-1 stopped with the screen", lambda: watch.snapshot().hubs[
            "room-1"].stopped, 10.0)
    finally:
        watch.stop()
        stop(screen, config.parent / "dashboard.log")
        stop(other, config.parent / "room-2.log")


def test_which_hub_a_dashboard_is(tmp_path: Path) -> None:
    host = socket.gethostname()
    f = tmp_path / "site.toml"
    f.write_text(site_text("postgresql://nobody@127.0.0.1:1/x",
                           [(host, "normal"), ("room-2", "normal")]))
    config = load_config(f)
    assert own_hub(config, None, False) == host  # the computer's host name names a hub
    assert own_hub(config, None, True) is None  # --no-hub: only watch
    assert own_hub(config, "room-2", False) == "room-2"
    with pytest.raises(UsageError, match="names no hub 'room-9'"):
        own_hub(config, "room-9", False)
    f.write_text(site_text("postgresql://nobody@127.0.0.1:1/x", [("room-2", "normal")]))
    assert own_hub(load_config(f), None, False) is None
