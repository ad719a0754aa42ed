"""Where the store lives: the default SQLite file, `--db` URLs, and a look at an existing
SQLite file before anything writes to it.

The pre-flight look opens the file read-only, so a corrupt, foreign or newer-schema
database is reported and left byte-for-byte untouched (switching on WAL alone would
rewrite its header).
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from oximon.store.errors import StoreInputError, StoreUnavailable

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_FILENAME = "oximon.sqlite3"


def default_path() -> Path:
    """The per-user data folder (e.g. ~/.local/share/oximon/oximon.sqlite3 on Linux)."""
    return Path(platformdirs.user_data_dir("oximon", appauthor=False)) / DEFAULT_FILENAME


@dataclass(frozen=True)
class Target:
    """A resolved `--db`: a SQLAlchemy URL plus, for SQLite, the file path."""

    url: URL
    path: Path | None  # the SQLite file; None for a server database

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    @property
    def label(self) -> str:
        """How messages name the database (never with a password)."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True).replace("+psycopg", "")


def resolve(db: str | None) -> Target:
    """`None` → the default file; a plain path → SQLite file; `sqlite:///FILE`;
    `postgresql://...` (psycopg 3 is used whatever driver the URL names)."""
    if db is None or db == "":
        return Target(make_url(f"sqlite:///{default_path()}"), default_path())
    if "://" not in db:
        path = Path(db).expanduser().absolute()
        return Target(make_url(f"sqlite:///{path}"), path)
    try:
        url = make_url(db)
    except ArgumentError:
        raise StoreInputError(f"--db {db!r}: not a database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreInputError(f"--db {db!r}: give a file, e.g. sqlite:////path/oximon.db")
        path = Path(url.database).expanduser().absolute()
        return Target(make_url(f"sqlite:///{path}"), path)
    if backend == "postgresql":
        return Target(url.set(drivername="postgresql+psycopg"), None)
    raise StoreInputError(f"--db {db!r}: use a file path, sqlite:///FILE or postgresql://...")


def prepare_sqlite_file(path: Path, create: bool) -> bool:
    """Make sure `path` can be used; create it private (0600, folder 0700) when allowed.

    Returns True when the file already held data. Raises StoreInputError for a file that
    cannot be used, without changing it.
    """
    if path.is_dir():
        raise StoreInputError(f"{path}: is a folder, not a database file")
    if not path.exists():
        if not create:
            raise StoreInputError(f"{path}: no incident store here (nothing recorded yet?)")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreUnavailable(f"{path}: cannot create the database "
                                       f"({exc.strerror})") from None
            raise StoreInputError(f"{path}: cannot create the database ({exc.strerror})") from None
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreInputError(f"{path}: cannot read the database ({exc.strerror})") from None
    if not head:
        if not create:  # an empty file is not a store; only a monitoring run makes one
            raise StoreInputError(f"{path}: not a database (the file is empty); it was left "
                                  "unchanged")
        return False
    if head != SQLITE_MAGIC:
        raise StoreInputError(f"{path}: not a database (damaged, or some other kind of file); "
                              "it was left unchanged")
    return True


def sqlite_companions(path: Path) -> tuple[Path, Path]:
    """The WAL and shared-memory files SQLite keeps next to a database in WAL mode."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def inspect_sqlite(path: Path, timeout: float = 5.0, quick_check: bool = False
                   ) -> tuple[set[str], str | None]:
    """Read-only look: the tables present and the schema revision (alembic_version), and,
    when asked, the page check (`quick_check`, seconds on a large store). WAL companions
    SQLite creates for this look are removed again if the file turns out unusable."""
    before = {p for p in sqlite_companions(path) if p.exists()}
    uri = f"{path.as_uri()}?mode=ro"
    try:
        try:
            con = sqlite3.connect(uri, uri=True, timeout=timeout)
        except sqlite3.Error as exc:
            raise StoreInputError(f"{path}: cannot open the database ({exc})") from None
        try:
            return _look(con, path, quick_check)
        finally:
            con.close()
    except StoreInputError:
        for p in sqlite_companions(path):
            if p not in before:
                p.unlink(missing_ok=True)
        raise


def _look(con: sqlite3.Connection, path: Path, quick_check: bool
          ) -> tuple[set[str], str | None]:
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if quick_check:
            check = con.execute("PRAGMA quick_check(1)").fetchone()
            if check is None or check[0] != "ok":
                raise StoreInputError(f"{path}: the database is damaged "
                                      f"({check and check[0]}); it was left unchanged — "
                                      "restore a backup")
        revision = None
        if "alembic_version" in tables:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise StoreUnavailable(f"{path}: the database is locked by another program") from None
        if "disk I/O error" in str(exc) or "full" in str(exc):  # the disk, not the file
            raise StoreUnavailable(f"{path}: cannot use the database now ({exc}; is the "
                                   "disk full?)") from None
        raise StoreInputError(f"{path}: cannot read the database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise StoreInputError(f"{path}: the database is damaged ({exc}); it was left "
                              "unchanged") from None
    return tables, revision


# -- when the full page check is due ---------------------------------------------------
# A monitoring run checks every page of its file when it opens it, unless this same
# program checked it today and the file is exactly as it left it at its last clean stop
# (size, change time and inode of the file and its WAL). The note lives next to the file.

def _check_note(path: Path) -> Path:
    return path.with_name(path.name + "-checked")


def _fingerprint(path: Path) -> list[list[int] | None]:
    out: list[list[int] | None] = []
    for p in (path, sqlite_companions(path)[0]):
        try:
            st = p.stat()
        except OSError:
            out.append(None)
            continue
        out.append([st.st_size, st.st_mtime_ns, st.st_ino])
    return out


def integrity_due(path: Path, today: date | None = None) -> bool:
    try:
        note = json.loads(_check_note(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    if not isinstance(note, dict):
        return True
    return note.get("day") != (today or date.today()).isoformat() or \
        note.get("fingerprint") != _fingerprint(path)


def note_integrity(path: Path, checked_today: bool) -> None:
    """At a clean stop: remember the file as left (and the day of its last full check)."""
    note = _check_note(path)
    day = date.today().isoformat() if checked_today else None
    if day is None:
        try:
            day = json.loads(note.read_text(encoding="utf-8")).get("day")
        except (OSError, ValueError, AttributeError):
            return
    try:
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"day": day, "fingerprint": _fingerprint(path)}, fh)
    except OSError:
        pass  # no note: the next run simply checks again
