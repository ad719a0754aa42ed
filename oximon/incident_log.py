"""The incident store as the dashboard's `IncidentLog` (oximon.ports).

The store keeps amendments, not voids: an undone tap becomes a `void_action` amendment
naming the entry's record number. This adapter is that translation, so the response
panel calls one promised method instead of probing the store for `get_incident`/`amend`.
"""

from __future__ import annotations

from oximon.engine import Engine
from oximon.events import EngineEvent, IncidentOpened
from oximon.ports import IncidentLog
from oximon.store.store import Store
from oximon.types import Station


class StoreIncidentLog:
    """Implements oximon.ports.IncidentLog over a `Store`."""

    def __init__(self, store: Store):
        self.store = store

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str:
        return self.store.open_incident(station, t, reason, by=by)

    def current_incident(self, station: str) -> str | None:
        return self.store.current_incident(station)

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        self.store.record_action(incident_id, action, t, by=by, details=details)

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None:
        self.store.close_incident(incident_id, t, outcome, aftercare, by=by, note=note)

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        """The last entry `action` at `t` not yet void gets a void amendment."""
        self.store.flush()  # the tap may still wait in the writer's queue
        record = self.store.get_incident(incident_id, with_trace=False)
        seqs = [] if record is None else [
            a["seq"] for a in record.actions
            if a["action"] == action and a.get("t") == t and not a.get("void")]
        if not seqs:
            raise RuntimeError(f"'{action}' was not found in the record")
        self.store.amend(incident_id, {"void_action": seqs[-1]}, reason, by)

    def amend(self, incident_id: str, changes: dict[str, object], reason: str,
              by: str) -> None:
        self.store.amend(incident_id, dict(changes), reason, by)

    def record_details(self, incident_id: str, by: str, **details: object) -> None:
        self.store.record_details(incident_id, by, **details)

    def add_station(self, station: Station) -> None:
        self.store.add_station(station)

    @property
    def saving_ok(self) -> bool:
        return self.store.saving_ok


class ResponseNoting:
    """An IncidentLog that also tells the engine when a person logs a response action,
    so a high alarm's reminder waits while someone is working (issue 12: the reminder
    sounds when an alarm stays active "with no response action logged").

    It learns each incident's station from what it opens and from the engine's
    IncidentOpened events (the store opens most incidents itself, on a high alarm)."""

    def __init__(self, log: IncidentLog, engine: Engine):
        self.log = log
        self.engine = engine
        self._stations: dict[str, str] = {}
        engine.subscribe(self._heard)

    def _heard(self, event: EngineEvent) -> None:
        if isinstance(event, IncidentOpened):
            self._stations[event.id] = event.station

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str:
        iid = self.log.open_incident(station, t, reason, by)
        self._stations[iid] = station
        return iid

    def current_incident(self, station: str) -> str | None:
        iid = self.log.current_incident(station)
        if iid is not None:
            self._stations[iid] = station
        return iid

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        self.log.record_action(incident_id, action, t, by, details)
        station = self._stations.get(incident_id)
        if station is not None and station in self.engine.stations:
            self.engine.response_logged(station)

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None:
        self.log.close_incident(incident_id, t, outcome, aftercare, by, note)

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        self.log.void_action(incident_id, action, t, by, reason)

    def amend(self, incident_id: str, changes: dict[str, object], reason: str,
              by: str) -> None:
        self.log.amend(incident_id, changes, reason, by)

    def record_details(self, incident_id: str, by: str, **details: object) -> None:
        self.log.record_details(incident_id, by, **details)

    def add_station(self, station: Station) -> None:
        self.log.add_station(station)

    @property
    def saving_ok(self) -> bool:
        return self.log.saving_ok
