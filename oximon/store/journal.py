"""The recovery journal: records that could not reach the database are never lost silently.

While writes fail (disk full, server down or frozen) the backlog waits in memory and the
technical alarm "Records are not being saved" is up. Memory dies with the process, so at
every failed write the whole backlog (readings, incident events, audit and alarm entries,
and the incidents this run keeps a trace for) is also written here: one private JSON file
per process, replaced atomically and fsync'd, in a folder of its own — NOT beside the
database, whose disk may be the one that is full (`OXIMON_JOURNAL_DIR`, default the user
state folder, e.g. ~/.local/state/oximon/journal). When a write succeeds again the file is
removed. A run that ends with anything unwritten leaves its journal, exits 1 and names it;
the next run on the same database writes what the journal holds (in one transaction,
audited as "journal_written") and removes it. Journals of processes still alive are left
alone (two monitors may share a database).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from oximon.private_files import replace_private
from oximon.store.writer import Live, Pending, Row

ENV_DIR = "OXIMON_JOURNAL_DIR"
_OPEN_PATHS: set[Path] = set()  # journals of stores still open in this process


def journal_dir() -> Path:
    folder = os.environ.get(ENV_DIR)
    if folder:
        return Path(folder)
    return Path(platformdirs.user_state_dir("oximon", appauthor=False)) / "journal"


def _key(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()[:16]


@dataclass
class Backlog:
    """What one journal holds."""

    label: str = ""
    rows: list[Row] = field(default_factory=list)
    events: list[Pending] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    lives: dict[str, Live] = field(default_factory=dict)

    def counts(self) -> str:
        return (f"{len(self.rows)} readings, {len(self.events)} incident events, "
                f"{len(self.audits)} audit and {len(self.alarms)} alarm-log entries")

    def empty(self) -> bool:
        return not (self.rows or self.events or self.audits or self.alarms)


class Journal:
    """This process's journal for one database."""

    def __init__(self, label: str, folder: Path | None = None):
        self.label = label
        self.folder = folder or journal_dir()
        self.path = self.folder / (f"{_key(label)}-{socket.gethostname()}-{os.getpid()}-"
                                   f"{id(self):x}.json")
        self._lock = threading.Lock()
        self.saved = False  # the file holds a backlog not yet written to the database
        self.final = False  # saved at close: kept whatever the writer does next
        _OPEN_PATHS.add(self.path)

    def close(self) -> None:
        _OPEN_PATHS.discard(self.path)

    def save(self, backlog: Backlog) -> None:
        """Replace the journal with `backlog` (OSError if even this folder fails)."""
        data = {"version": 1, "label": self.label, "rows": [list(r) for r in backlog.rows],
                "events": [asdict(p) for p in backlog.events], "audits": backlog.audits,
                "alarms": backlog.alarms,
                "lives": [{k: v for k, v in asdict(live).items() if k != "episode"}
                          for live in backlog.lives.values()]}
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            replace_private(self.path, json.dumps(data, ensure_ascii=False))
            _fsync_dir(self.folder)
            self.saved = True

    def discard(self) -> None:
        with self._lock:
            if self.saved and not self.final:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                self.saved = False


def leftovers(label: str, folder: Path | None = None) -> list[Path]:
    """Journals for this database left by processes of this computer that are gone."""
    folder = folder or journal_dir()
    found = []
    for path in sorted(folder.glob(f"{_key(label)}-*.json")) if folder.is_dir() else []:
        parts = path.stem.split("-")
        if len(parts) < 4 or not parts[-2].isdigit():
            continue
        host, pid = "-".join(parts[1:-2]), int(parts[-2])
        if path in _OPEN_PATHS:
            continue  # a store of this process still uses it
        if host == socket.gethostname() and pid != os.getpid() and _alive(pid):
            continue  # another monitor on this computer, still running
        found.append(path)
    return found


def load(path: Path) -> Backlog:
    raw = json.loads(path.read_text(encoding="utf-8"))
    lives = {}
    for d in raw.get("lives", []):
        lives[d["id"]] = Live(**d)
    return Backlog(label=raw.get("label", ""), rows=[tuple(r) for r in raw["rows"]],
                   events=[Pending(**p) for p in raw["events"]], audits=raw["audits"],
                   alarms=raw["alarms"], lives=lives)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
