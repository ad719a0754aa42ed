"""An anchor kept outside the database: the one thing that catches a rewritten store.

Inside the database every record is chained and each write copies the chain heads into a
session row, so deleting or editing records leaves a trace — unless someone with write
access deletes the newest records AND points the heads and every copy at the last
surviving hashes, or rewrites the whole database recomputing every hash. No check inside
the database can catch that. An anchor file can: `oximon incidents verify --save-anchor
FILE` writes each chain's newest (record number, hash), which a supervisor keeps on other
media (a USB key, a printout in the log book); `verify --against FILE` later checks that
each of those records is still there with exactly that hash. Records added since are
fine; any record at or before an anchored one that was deleted, edited or recomputed is
reported.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from oximon.private_files import replace_private
from oximon.store.query import Problem
from oximon.store.schema import CHAINS, alarm_log, audit_log, incident_events

TABLES = {"incident": incident_events, "audit": audit_log, "alarm": alarm_log}


class AnchorError(ValueError):
    """An anchor file that cannot be used (the message names it)."""


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def make(heads: dict[str, tuple[int, str]], label: str) -> dict[str, Any]:
    body = {"oximon_anchor": 1, "database": label, "made_ts": round(time.time(), 3),
            "chains": {name: {"seq": seq, "hash": h} for name, (seq, h) in heads.items()}}
    return {**body, "digest": _digest(body)}


def save(path: Path, anchor: dict[str, Any]) -> None:
    replace_private(path, json.dumps(anchor, indent=2) + "\n")


def load(path: Path) -> dict[str, Any]:
    """The anchor in `path`; AnchorError if it is not one or was changed (its own digest)."""
    try:
        anchor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AnchorError(f"{path}: not an oximon anchor file ({exc})") from None
    if not isinstance(anchor, dict) or anchor.get("oximon_anchor") != 1 \
            or not isinstance(anchor.get("chains"), dict):
        raise AnchorError(f"{path}: not an oximon anchor file")
    body = {k: v for k, v in anchor.items() if k != "digest"}
    if anchor.get("digest") != _digest(body):
        raise AnchorError(f"{path}: the anchor file was changed since it was made (its "
                          "digest does not match)")
    return anchor


def check(conn: Connection, anchor: dict[str, Any], where: str) -> list[Problem]:
    """Each anchored record must still be in its chain with the same hash."""
    problems = []
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime(anchor.get("made_ts", 0)))
    for name, link in anchor["chains"].items():
        if name not in TABLES or name not in CHAINS.values():
            problems.append(Problem(f"{where}: unknown chain {name!r}"))
            continue
        seq, h = int(link["seq"]), str(link["hash"])
        if seq <= 0:
            continue
        table = TABLES[name]
        there = conn.execute(select(table.c.hash).where(table.c.seq == seq)).scalar()
        if there is None:
            problems.append(Problem(
                f"{name} record #{seq} is missing: the anchor kept outside the database "
                f"({where}, made {made}) saw the chain reach it (records deleted and the "
                "chain rewound)", seq))
        elif there != h:
            problems.append(Problem(
                f"{name} record #{seq} is not the one the anchor kept outside the database "
                f"({where}, made {made}) saw (the chain was rewritten)", seq))
    return problems
