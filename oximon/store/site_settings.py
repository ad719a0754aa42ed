"""Site settings kept in the store (so every computer of a site uses the same): retention
and the quiet-close time. Values outside their range are refused, never clamped."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from sqlalchemy import Connection, delete, insert, select

from oximon.store.errors import IncidentError
from oximon.store.schema import settings

SETTINGS = {  # site settings kept in the store: key -> (default, lowest, highest, meaning)
    "retention_days": (30.0, 1.0, 3650.0, "days readings are kept (incident traces are "
                       "kept with their incident)"),
    "quiet_close_min": (10.0, 1.0, 240.0, "minutes with no high alarm after which oximon "
                        "closes an incident nobody closed (outcome not recorded)"),
}


def read(conn: Connection) -> dict[str, float]:
    """The settings (defaults where none was set, or where a stored value is not a number)."""
    values = {k: spec[0] for k, spec in SETTINGS.items()}
    for row in conn.execute(select(settings)):
        if row.key in values:
            with contextlib.suppress(ValueError):
                values[row.key] = float(row.value)
    return values


def check(values: Mapping[str, object]) -> None:
    """Refuse unknown keys and values out of range."""
    for key, value in values.items():
        if key not in SETTINGS:
            raise IncidentError(f"unknown setting {key!r} (one of "
                                f"{', '.join(sorted(SETTINGS))})")
        low, high = SETTINGS[key][1:3]
        if not (isinstance(value, int | float) and low <= value <= high):
            raise IncidentError(f"{key}: give a number from {low:g} to {high:g}")


def write(conn: Connection, values: dict[str, float], now: float, who: str) -> None:
    for key, value in values.items():
        conn.execute(delete(settings).where(settings.c.key == key))
        conn.execute(insert(settings).values(key=key, value=repr(float(value)),
                                             updated_ts=now, updated_by=who))
