"""An IncidentLog that keeps everything in memory: what the response panel uses when no
incident store is wired in. Nothing is saved; the panel says so on screen."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from oximon.types import Station


@dataclass
class MemoryIncident:
    id: str
    station: str
    opened_t: float
    reason: str
    actions: list[tuple[float, str, dict[str, object]]] = field(default_factory=list)
    closed_t: float | None = None
    outcome: str = ""
    aftercare: list[str] = field(default_factory=list)
    note: str = ""
    voided: list[tuple[float, str, str]] = field(default_factory=list)  # (t, action, why)
    details: dict[str, object] = field(default_factory=dict)
    amendments: list[tuple[dict[str, object], str, str]] = field(default_factory=list)


class MemoryIncidentLog:
    """Implements oximon.ports.IncidentLog; `saves` is False (the panel warns)."""

    saves = False
    saving_ok = False  # nothing is written anywhere

    def __init__(self) -> None:
        self.incidents: dict[str, MemoryIncident] = {}
        self.stations: dict[str, Station] = {}
        self._ids = itertools.count(1)

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str:
        current = self.current_incident(station)
        if current is not None:
            return current
        iid = f"unsaved-{next(self._ids)}"
        self.incidents[iid] = MemoryIncident(iid, station, t, reason)
        return iid

    def current_incident(self, station: str) -> str | None:
        for inc in self.incidents.values():
            if inc.station == station and inc.closed_t is None:
                return inc.id
        return None

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        self.incidents[incident_id].actions.append((t, action, dict(details or {})))

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None:
        inc = self.incidents[incident_id]
        inc.closed_t, inc.outcome = t, outcome
        inc.aftercare, inc.note = list(aftercare or []), note

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        """An undone tap: noted as void, never deleted (as the store's amendment does)."""
        self.incidents[incident_id].voided.append((t, action, reason))

    def record_details(self, incident_id: str, by: str, **details: object) -> None:
        self.incidents[incident_id].details.update(details)

    def amend(self, incident_id: str, changes: dict[str, object], reason: str,
              by: str) -> None:
        self.incidents[incident_id].amendments.append((dict(changes), reason, by))

    def add_station(self, station: Station) -> None:
        self.stations[station.id] = station
