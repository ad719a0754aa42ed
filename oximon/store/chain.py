"""The hash chain over incident events.

Every incident event carries the SHA-256 of the previous event's hash and its own content,
in one global sequence. Editing any stored field breaks that event's hash; deleting an event
leaves a hole in the sequence and breaks the next link; removing the newest events no
longer matches the chain head. `verify` names the first record each problem touches.
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
    body = json.dumps([seq, incident_id, kind, ts, t, actor, data_text, recorded_ts],
                      ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def trace_digest(rows: list[tuple[float, float | None, float | None, float | None, int]]) -> str:
    """Digest of an incident's trace rows (ts, spo2, pr, pi, flags), in time order."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(list(row), allow_nan=False).encode())
        h.update(b"\n")
    return h.hexdigest()
