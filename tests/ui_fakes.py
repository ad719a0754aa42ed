"""Test doubles for the dashboard: an in-memory IncidentLog that records every call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oximon.types import Station


def build_window(engine, title: str | None = None, kiosk: bool = False, options=None,
                 **services: Any):
    """The window as `oximon dashboard` builds it: its services from the composition
    root (`incident_log`, `session`, `confirm`... as keywords), defaults for the rest."""
    from oximon.cli.dashboard_services import build_services
    from oximon.ui import app

    return app.build_window(engine, build_services(engine, **services), title=title,
                            kiosk=kiosk, options=options)


@dataclass
class FakeIncidentLog:
    """oximon.ports.IncidentLog, in memory; `calls` keeps everything in order."""

    calls: list[tuple] = field(default_factory=list)
    open: dict[str, str] = field(default_factory=dict)  # station -> id
    fail_actions: bool = False
    saving_ok: bool = True
    stations: list[str] = field(default_factory=list)
    _n: int = 0

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str:
        self._n += 1
        iid = f"inc-{self._n}"
        self.open[station] = iid
        self.calls.append(("open", station, t, reason, by))
        return iid

    def current_incident(self, station: str) -> str | None:
        return self.open.get(station)

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        if self.fail_actions:
            raise OSError("disk full")
        self.calls.append(("action", incident_id, action, t, dict(details or {})))

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None:
        self.calls.append(("close", incident_id, t, outcome, list(aftercare or []), note))
        for station, iid in list(self.open.items()):
            if iid == incident_id:
                del self.open[station]

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        self.calls.append(("void", incident_id, action, t, by))

    def record_details(self, incident_id: str, by: str, **details: object) -> None:
        self.calls.append(("details", incident_id, by, details))

    def amend(self, incident_id: str, changes: dict[str, object], reason: str,
              by: str) -> None:
        self.calls.append(("amend", incident_id, dict(changes), reason, by))

    def add_station(self, station: Station) -> None:
        self.stations.append(station.id)  # not a record call: kept apart

    def actions(self) -> list[tuple[str, float, dict]]:
        return [(c[2], c[3], c[4]) for c in self.calls if c[0] == "action"]
