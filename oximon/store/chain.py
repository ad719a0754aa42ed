"""The hash chains: incident events, the audit log and the alarm log.

Every record carries the SHA-256 of the previous record's hash and its own content, in one
sequence per chain. Editing any stored field breaks that record's hash; deleting one leaves
a hole in the sequence and breaks the next link; removing the newest records no longer
matches the chain head, nor the heads each session copied at its heartbeats (`anchor`).
An incident's SpO2/pulse trace is sealed into its chain as it is recorded (a digest of each
new stretch of rows every few seconds, and of the whole trace when it closes).

What no chain can show: someone who rewrites the whole database, recomputing every hash,
the heads and the anchors. Only a head noted outside the database (printed by `verify`)
catches that. `verify` names the first record each problem touches.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(data: Any) -> str:
    """The one text form of an event's data: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def event_hash(prev_hash: str, seq: int, incident_id: str, kind: str, ts: float,
               t: float | None, actor: str, data_text: str, recorded_ts: float) -> str:
    # Numbers as the database gives them back (a float column returns 3.0 for 3).
    body = json.dumps([int(seq), incident_id, kind, float(ts), None if t is None else float(t),
                       actor, data_text, float(recorded_ts)],
                      ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def trace_digest(rows: list[tuple[float, float | None, float | None, float | None, int]]) -> str:
    """Digest of an incident's trace rows (ts, spo2, pr, pi, flags), in time order."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(list(row), allow_nan=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def _plain(value: Any) -> Any:
    """Values as the database gives them back: 3.0 for 3 in a float column, True for 1 in a
    boolean one (SQLite stores booleans as integers)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def row_hash(prev_hash: str, seq: int, values: list[Any]) -> str:
    """The link of an audit-log or alarm-log record: its sequence number and columns."""
    body = json.dumps([int(seq), *(_plain(v) for v in values)], ensure_ascii=False,
                      allow_nan=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


AUDIT_COLUMNS = ("ts", "actor", "action", "target", "detail", "recorded_ts")
ALARM_COLUMNS = ("ts", "t", "kind", "station", "condition", "state", "priority", "technical",
                 "actor", "data", "session_id", "recorded_ts")


def audit_hash(prev_hash: str, row: Any) -> str:
    return row_hash(prev_hash, row["seq"], [row[c] for c in AUDIT_COLUMNS])


def alarm_hash(prev_hash: str, row: Any) -> str:
    return row_hash(prev_hash, row["seq"], [bool(row[c]) if c == "technical" else row[c]
                                            for c in ALARM_COLUMNS])
