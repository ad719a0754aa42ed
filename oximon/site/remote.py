"""Remote booths on a dashboard: the booths of the site's hubs, shown by this screen.

The dashboard renders an engine (tiles read its stations, the banner and the speaker its
alarm system), so remote booths come in the way local ones do, with these adapters (the
third, `SiteAlarms`, is an alarm manager, so it lives in the composition root,
oximon/cli/site_view.py):
- `RemoteSource`: a Source per remote booth that turns the published state into the
  samples and device states the tile already draws. When the booth's hub is not alive it
  says LOST ("hub room-2 silent") and sends no number: the tile never keeps the last ones.
- `SiteAlarms`: this screen's alarm manager that also shows each remote booth's alarm
  *as its hub's alarm manager holds it* and forwards what a person does to the owning hub
  (see its docstring).
Remote alarm changes are announced as events from `tick`, so every listener (the model,
the speaker) hears them; `LocalRecords` keeps them, and remote readings, out of this
screen's incident store (the hub records its own booths).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import psycopg

from oximon.clock import Clock
from oximon.events import EngineEvent
from oximon.ports import RecordSink
from oximon.profile import Profile
from oximon.site import commands
from oximon.site.schema import connect
from oximon.site.state import BoothState
from oximon.site.viewer import SiteWatch
from oximon.types import ConditionChange, DeviceInfo, DeviceState, Sample, StateChange

log = logging.getLogger(__name__)

class RemoteBooths:
    """The site's remote booths for one screen: which hub owns each, the watch, and a
    command sender (its own thread and connection, so a tap never waits for the network)."""

    def __init__(self, url: str, booths: dict[str, tuple[str, str]], watch: SiteWatch):
        self.url = url
        self.booths = booths  # booth id -> (hub, label)
        self.watch = watch
        self.host = socket.gethostname()
        self._out: queue.Queue[tuple[str, str, str, str | None, str | None, float | None]
                               | None] = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, name="site commands out",
                                        daemon=True)
        self._request_lock = threading.Lock()
        self._request_conn: psycopg.Connection | None = None
        self.request_wait_s = 5.0

    def start(self) -> None:
        self.watch.start()
        self._sender.start()

    def stop(self) -> None:
        self._out.put(None)
        self.watch.stop()
        with self._request_lock:
            if self._request_conn is not None:
                self._request_conn.close()

    def hubs(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for booth, (hub, _) in self.booths.items():
            out.setdefault(hub, []).append(booth)
        return out

    def alive(self, hub: str) -> bool:
        status = self.watch.snapshot().hubs.get(hub)
        return status is not None and status.alive

    def why(self, hub: str) -> str:
        """Why a hub's booths are not monitored ("silent", "stopped")."""
        status = self.watch.snapshot().hubs.get(hub)
        return "silent" if status is None else status.why

    def state(self, booth: str) -> BoothState | None:
        """The booth's published state, only while its hub is alive and owns it."""
        snap = self.watch.snapshot()
        hub = self.booths[booth][0]
        status = snap.hubs.get(hub)
        st = snap.booths.get(booth)
        if status is None or not status.alive or st is None or st.hub != hub:
            return None
        return st

    def send(self, action: str, by: str, booth: str | None = None,
             condition: str | None = None, seconds: float | None = None) -> None:
        """To the booth's hub, or (no booth: an audio pause) to every hub."""
        hubs = [self.booths[booth][0]] if booth is not None else sorted(self.hubs())
        for hub in hubs:
            self._out.put((hub, action, by, booth, condition or None, seconds))

    def request(self, booth: str, action: str, by: str, payload: dict[str, Any]) -> str:
        """Send a command to the booth's hub and wait for its answer (a response logged on
        this screen: the panel says it is recorded only once the hub recorded it). Words
        starting "not applied" when the hub is not running or did not answer in time."""
        hub = self.booths[booth][0]
        if not self.alive(hub):
            return f"not applied: hub {hub} is not running (nothing was recorded)"
        with self._request_lock:
            try:
                if self._request_conn is None or self._request_conn.closed:
                    self._request_conn = connect(self.url, "dashboard requests")
                cid = commands.send(self._request_conn, hub, action, by, self.host, booth,
                                    payload=payload)
                answer = commands.wait_result(self._request_conn, cid, self.request_wait_s)
            except psycopg.Error as exc:
                self._request_conn = None
                return f"not applied: cannot reach the site database ({exc})"
        if answer is None:
            return (f"not applied: hub {hub} did not answer within {self.request_wait_s:g} s "
                    "(it may still record it)")
        return answer

    def _send_loop(self) -> None:
        conn: psycopg.Connection | None = None
        while (item := self._out.get()) is not None:
            hub, action, by, booth, condition, seconds = item
            try:
                if conn is None or conn.closed:
                    conn = connect(self.url, "dashboard commands")
                commands.send(conn, hub, action, by, self.host, booth, condition, seconds)
            except psycopg.Error as exc:  # the hub's alarm keeps sounding: try again by hand
                log.error("site: could not send %s to hub %s: %s", action, hub, exc)
                conn = None
        if conn is not None:
            conn.close()


class RemoteSource:
    """A remote booth as a Source: its published numbers and device state, polled from the
    watch (published once a second; an alarm's own state comes through SiteAlarms)."""

    def __init__(self, remote: RemoteBooths, booth: str, poll_s: float = 0.25):
        self.remote, self.booth, self.poll_s = remote, booth, poll_s
        hub = remote.booths[booth][0]
        self.info = DeviceInfo(address=f"site:{hub}/{booth}", transport="site",
                               name=f"on hub {hub}")

    async def events(self, clock: Clock) -> AsyncIterator[Sample | StateChange]:
        last: tuple[DeviceState, str] | None = None
        seq: tuple[str, int] | None = None
        hub = self.remote.booths[self.booth][0]
        while True:
            st = self.remote.state(self.booth)
            now = clock.now()
            if st is None:
                state = (DeviceState.LOST, f"not monitored — hub {hub} "
                         f"{self.remote.why(hub)}")
            else:
                state = (st.device_state, st.detail)
            if state != last:
                last = state
                yield StateChange(now, *state)
            if st is not None and (st.run, st.seq) != seq:
                seq = (st.run, st.seq)
                if st.device_state.has_numbers and st.spo2 is not None:
                    yield Sample(now, spo2=float(st.spo2),
                                 pr=float("nan") if st.pr is None else float(st.pr))
            await clock.sleep_until(now + self.poll_s)


class LocalRecords:
    """The screen's incident store, without what belongs to a hub's records: readings and
    events of remote booths (their hub keeps them, with its own incidents)."""

    def __init__(self, records: RecordSink, remote: set[str]):
        self.records, self.remote = records, remote

    def apply_profile(self, profile: Profile) -> None:
        self.records.apply_profile(profile)

    def on_sample(self, station: str, sample: Sample) -> None:
        if station not in self.remote:
            self.records.on_sample(station, sample)

    def on_event(self, event: EngineEvent) -> list[EngineEvent | ConditionChange]:
        if event.station in self.remote:
            return []
        return self.records.on_event(event)

    def tick(self, now: float) -> list[EngineEvent | ConditionChange]:
        return self.records.tick(now)

    def flush(self) -> list[EngineEvent | ConditionChange]:
        return self.records.flush()

    def close(self) -> None:
        self.records.close()
