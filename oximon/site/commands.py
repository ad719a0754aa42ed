"""Acknowledgements, audio pauses and logged responses from any screen, for the hub that
owns the booth.

A screen (or `oximon site ack`) inserts a row in `site_commands` and notifies the hubs;
the owning hub's alarm manager applies it like a tap on its own screen (the alarm log
says who, and from which computer) and writes back when and with what result. A command
that waited longer than `STALE_S` (its hub was down) is not applied: the alarm it meant
may be gone, and an old tap must never silence a new alarm.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from oximon.site.schema import COMMAND_CHANNEL

STALE_S = 30.0
# "incident": a response logged on a screen, for the hub's incident of the booth (its
# `payload` says what: see oximon.site.incidents).
ACTIONS = ("acknowledge", "pause_audio", "resume_audio", "note_response", "incident")


@dataclass(frozen=True)
class Command:
    id: int
    hub: str
    booth: str | None
    action: str
    condition: str | None
    by: str
    from_host: str
    waited_s: float  # since it was requested (database clock)
    seconds: float | None = None  # an audio pause's length (None: the profile's maximum)
    payload: dict[str, Any] | None = None  # an incident command's what (JSON)

    @property
    def who(self) -> str:
        """Who did it, as every screen shows it: 'Sam (at door-pc)'."""
        return f"{self.by} (at {self.from_host})" if self.from_host else self.by


def send(conn: psycopg.Connection, hub: str, action: str, by: str, from_host: str,
         booth: str | None = None, condition: str | None = None,
         seconds: float | None = None, payload: dict[str, Any] | None = None) -> int:
    """Queue a command for `hub` and wake it; returns the command's id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown site command {action!r}")
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO site_commands (hub, booth, action, condition, seconds, by, "
            "from_host, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (hub, booth, action, condition, seconds, by, from_host,
             None if payload is None else json.dumps(payload))).fetchone()
        conn.execute("SELECT pg_notify(%s, %s)", (COMMAND_CHANNEL, hub))
    assert row is not None
    return int(row[0])


def wait_result(conn: psycopg.Connection, command_id: int, timeout_s: float) -> str | None:
    """The hub's result for a command, or None if it was not applied within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        row = conn.execute("SELECT result FROM site_commands WHERE id = %s AND applied_at "
                           "IS NOT NULL", (command_id,)).fetchone()
        if row is not None:
            return str(row[0])
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def take_pending(conn: psycopg.Connection, hub: str) -> list[Command]:
    """The hub's unapplied commands, oldest first (inside the caller's transaction, rows
    locked so a second process of the hub could not apply them twice)."""
    rows = conn.execute(
        "SELECT id, hub, booth, action, condition, by, from_host, "
        "extract(epoch FROM now() - requested_at), seconds, payload FROM site_commands "
        "WHERE hub = %s AND applied_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED",
        (hub,)).fetchall()
    return [Command(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], float(r[7]),
                    None if r[8] is None else float(r[8]),
                    r[9] if r[9] is None or isinstance(r[9], dict) else json.loads(r[9]))
            for r in rows]


def mark_applied(conn: psycopg.Connection, command_id: int, result: str) -> None:
    conn.execute("UPDATE site_commands SET applied_at = now(), result = %s WHERE id = %s",
                 (result, command_id))
