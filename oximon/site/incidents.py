"""Responses logged on a screen for a booth that another computer's hub runs.

The booth's incident is its hub's (the hub's store opens it on a high alarm, one incident
per episode, on the site's database): a response tapped on any screen must land there,
not open a second incident on the screen's own records. So:

- `SiteIncidentLog` (a screen): the dashboard's IncidentLog. The screen's own booths go to
  its own log as before; every call about a remote booth is an "incident" command to the
  owning hub, and the screen waits for the hub's answer (a short round trip through the
  site's PostgreSQL), so the panel shows a tap as recorded only once the hub recorded it,
  and says why when it could not (hub not running, incident already closed...).
- `HubIncidents` (a hub): applies those commands on the hub's incident log, on the
  engine's loop, in the hub's time, recorded as done by `NAME (at COMPUTER)`.

The reminder of the booth's alarm (it waits while someone logs responses) is told apart
by the dashboard's `ResponseNoting`, through the alarm system's `note_response`, which
`SiteAlarms` forwards to the hub as a "note_response" command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from oximon.clock import Clock
from oximon.incident_log import StoreIncidentLog
from oximon.ports import IncidentLog
from oximon.response import action_words
from oximon.site.commands import Command
from oximon.store import Store
from oximon.types import Station

log = logging.getLogger(__name__)

OPS = ("current", "open", "record_action", "close", "void_action", "amend", "details")
NONE = "none"  # the answer to "current" when the booth has no open incident


class HubUnreachable(RuntimeError):
    """A remote booth's hub did not take the response (its words are for the person)."""


class Requester(Protocol):
    """Sends a command to a booth's hub and waits for its answer (RemoteBooths.request)."""

    def request(self, booth: str, action: str, by: str, payload: dict[str, Any]) -> str: ...


class SiteIncidentLog:
    """Implements oximon.ports.IncidentLog for a screen of a site: remote booths' calls go
    to their hub (`remote_booths`), the others to `local`."""

    def __init__(self, local: IncidentLog, remote: Requester, remote_booths: set[str]):
        self.local, self.remote, self.remote_booths = local, remote, remote_booths
        self._booth_of: dict[str, str] = {}  # a remote incident id -> its booth

    def _ask(self, booth: str, op: str, by: str = "", **payload: Any) -> str:
        answer = self.remote.request(booth, "incident", by, {"op": op, **payload})
        if answer.startswith(("not applied", "failed")):
            raise HubUnreachable(f"{booth}: {answer}")
        return answer

    def _booth(self, incident_id: str) -> str | None:
        return self._booth_of.get(incident_id)

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str:
        if station not in self.remote_booths:
            return self.local.open_incident(station, t, reason, by)
        iid = self._ask(station, "open", by, reason=reason)
        self._booth_of[iid] = station
        return iid

    def current_incident(self, station: str) -> str | None:
        if station not in self.remote_booths:
            return self.local.current_incident(station)
        iid = self._ask(station, "current")
        if iid == NONE:
            return None
        self._booth_of[iid] = station
        return iid

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        booth = self._booth(incident_id)
        if booth is None:
            self.local.record_action(incident_id, action, t, by, details)
        else:
            self._ask(booth, "record_action", by, incident=incident_id, action=action,
                      screen_t=t, details=dict(details or {}))

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None:
        booth = self._booth(incident_id)
        if booth is None:
            self.local.close_incident(incident_id, t, outcome, aftercare, by, note)
        else:
            self._ask(booth, "close", by, incident=incident_id, outcome=outcome,
                      aftercare=aftercare, note=note)

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        booth = self._booth(incident_id)
        if booth is None:
            self.local.void_action(incident_id, action, t, by, reason)
        else:
            self._ask(booth, "void_action", by, incident=incident_id, action=action,
                      screen_t=t, reason=reason)

    def amend(self, incident_id: str, changes: dict[str, object], reason: str,
              by: str) -> None:
        booth = self._booth(incident_id)
        if booth is None:
            self.local.amend(incident_id, changes, reason, by)
        else:
            self._ask(booth, "amend", by, incident=incident_id, changes=changes, reason=reason)

    def record_details(self, incident_id: str, by: str, **details: object) -> None:
        booth = self._booth(incident_id)
        if booth is None:
            self.local.record_details(incident_id, by, **details)
        else:
            self._ask(booth, "details", by, incident=incident_id, details=details)

    def add_station(self, station: Station) -> None:
        if station.id not in self.remote_booths:
            self.local.add_station(station)

    @property
    def saving_ok(self) -> bool:
        return self.local.saving_ok


@dataclass(frozen=True)
class Response:
    """A response logged for a booth's open incident, as every screen shows it."""

    action: str
    details: dict[str, object]
    by: str
    t: float  # the hub's engine time

    def words(self) -> str:
        """'naloxone dose 1 (4 mg IN) — Lee (at door-pc)'."""
        return f"{action_words(self.action, self.details)} — {self.by}" if self.by \
            else action_words(self.action, self.details)


class RememberingLog(StoreIncidentLog):
    """The hub's incident log (its store), remembering the last responses of each incident
    — tapped on its own screen or on any other — so the hub publishes them with the booth
    and every screen shows them."""

    KEEP = 3

    def __init__(self, store: Store):
        super().__init__(store)
        self._recent: dict[str, list[Response]] = {}

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        super().record_action(incident_id, action, t, by, details)
        kept = self._recent.setdefault(incident_id, [])
        kept.append(Response(action, dict(details or {}), by, t))
        del kept[:-self.KEEP]

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        super().void_action(incident_id, action, t, by, reason)
        kept = self._recent.get(incident_id, [])
        for i in range(len(kept) - 1, -1, -1):
            if kept[i].action == action and kept[i].t == t:
                del kept[i]
                break

    def responses(self, booth: str) -> list[Response]:
        """The last responses of the booth's open incident (none when it has none)."""
        iid = self.current_incident(booth)
        return list(self._recent.get(iid, ())) if iid is not None else []


class HubIncidents:
    """A hub's side: applies a screen's incident command on the hub's own log.

    Times: a screen's clock is not the hub's (another computer, or `--speed`), so an entry
    is recorded at the hub's time when the tap was made (now, less how long the command
    waited); an undone tap is found by the screen time it was sent with."""

    def __init__(self, log: IncidentLog, clock: Clock, station_of: Callable[[str], str | None]):
        self.log, self.clock, self.station_of = log, clock, station_of
        self._times: dict[tuple[str, str, float], float] = {}  # (incident, action, screen t)

    def apply(self, cmd: Command) -> str:
        p = cmd.payload or {}
        op, booth = p.get("op"), cmd.booth
        if booth is None or op not in OPS:
            return f"not applied: unknown incident command {op!r}"
        t = self.clock.now() - cmd.waited_s * self.clock.speed
        if op == "current":
            return self.log.current_incident(booth) or NONE
        if op == "open":
            return self.log.open_incident(booth, t, str(p.get("reason") or "manual"), cmd.who)
        iid = str(p.get("incident"))
        if self.station_of(iid) != booth:
            return f"not applied: incident {iid} is not one of {booth}"
        if op == "record_action":
            self.log.record_action(iid, str(p["action"]), t, cmd.who, p.get("details") or {})
            self._times[(iid, str(p["action"]), float(p["screen_t"]))] = t
            return "recorded"
        if op == "void_action":
            key = (iid, str(p["action"]), float(p["screen_t"]))
            self.log.void_action(iid, key[1], self._times.pop(key, t), cmd.who,
                                 str(p.get("reason") or ""))
            return "voided"
        if op == "close":
            self.log.close_incident(iid, t, p["outcome"], p.get("aftercare"), cmd.who,
                                    str(p.get("note") or ""))
            return "closed"
        if op == "amend":
            self.log.amend(iid, dict(p["changes"]), str(p.get("reason") or ""), cmd.who)
            return "amended"
        self.log.record_details(iid, cmd.who, **dict(p["details"]))
        return "recorded"
