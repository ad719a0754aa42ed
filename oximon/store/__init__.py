"""The incident store: readings, incidents, amendments and the audit trail, on SQLite (the
default, in the user data folder) or PostgreSQL (`--db postgresql://...`).

Monitoring runs use it as the engine's RecordSink and the dashboard's IncidentLog; the
incidents CLI and the supervisor review read it through `list_incidents`, `get_incident`,
`verify`... See `store.py` for the rules that keep records from being lost or changed.
"""

from oximon.store.errors import IncidentError, StoreError, StoreInputError, StoreUnavailable
from oximon.store.location import default_path, resolve
from oximon.store.query import IncidentQuery, IncidentSummary, Problem
from oximon.store.record import (
    ACTIONS,
    AFTERCARE,
    AMENDABLE,
    DETAIL_FIELDS,
    NOT_RECORDED,
    OUTCOMES,
    SIGNS,
    IncidentRecord,
)
from oximon.store.store import RECORDS_NOT_SAVED, Store, open_store

__all__ = [
    "ACTIONS", "AFTERCARE", "AMENDABLE", "DETAIL_FIELDS", "NOT_RECORDED", "OUTCOMES",
    "RECORDS_NOT_SAVED", "SIGNS", "IncidentError", "IncidentQuery", "IncidentRecord",
    "IncidentSummary", "Problem", "Store", "StoreError", "StoreInputError",
    "StoreUnavailable", "default_path", "open_store", "resolve",
]
