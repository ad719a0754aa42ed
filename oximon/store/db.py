"""Opening a database: engine settings per backend, schema checks, and migrations.

SQLite: WAL with `synchronous=FULL`, so every commit is on disk before it returns (a
committed incident survives a power cut), a busy timeout for a second writer, and
`BEGIN IMMEDIATE` for write transactions (the `write` engine: they take the lock up front
instead of failing half-way) while reads use plain deferred transactions, which in WAL mode
never wait for a writer nor make one wait. The full page check (`PRAGMA quick_check`)
runs only when a monitoring run opens a file it has not checked today, or one changed
since it last closed it (see `location.integrity_due`): on a large store it takes seconds.

PostgreSQL: psycopg 3 with a connect timeout and pre-ping, so a restarted server
is picked up again without a restart of oximon.
"""

from __future__ import annotations

import os
import socket
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError, OperationalError

from oximon.store.errors import StoreInputError, StoreUnavailable
from oximon.store.location import (
    Target,
    inspect_sqlite,
    integrity_due,
    prepare_sqlite_file,
    sqlite_companions,
)
from oximon.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7041977  # pg_advisory_xact_lock key: one migrator at a time
OUR_TABLES = frozenset(metadata.tables)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def known_revisions() -> tuple[set[str], tuple[str, ...]]:
    script = ScriptDirectory.from_config(alembic_config())
    return {s.revision for s in script.walk_revisions()}, tuple(script.get_heads())


def check_revision(label: str, tables: set[str], revision: str | None) -> None:
    """Refuse a database we would misread: from a newer oximon, or not oximon's at all."""
    known, heads = known_revisions()
    if revision is not None and revision not in known:
        raise StoreInputError(
            f"{label}: this database was written by a newer oximon (schema {revision}; this "
            f"oximon knows up to {', '.join(heads)}). Upgrade oximon; the database was left "
            "unchanged.")
    if revision is None and tables & OUR_TABLES:
        raise StoreInputError(f"{label}: has tables named like oximon's but no schema version; "
                              "not an oximon store (left unchanged)")
    if revision is None and tables and target_is_file(label):
        raise StoreInputError(f"{label}: is some other program's database, not an oximon store "
                              "(left unchanged)")


def target_is_file(label: str) -> bool:
    return "://" not in label


def open_engine(target: Target, *, create: bool, busy_timeout_s: float = 5.0,
                check_pages: bool = False) -> tuple[Engine, bool]:
    """An engine on a checked, migrated database, and whether its pages were checked now.
    `check_pages`: a monitoring run's open (the full check runs when due).
    Raises StoreInputError/StoreUnavailable."""
    checked = False
    if target.is_sqlite:
        assert target.path is not None
        try:
            existed = prepare_sqlite_file(target.path, create)
        except OSError as exc:  # e.g. a full disk while creating it
            raise StoreUnavailable(f"{target.label}: cannot create the database "
                                   f"({exc.strerror or exc})") from None
        if existed:
            checked = check_pages and integrity_due(target.path)
            tables, revision = inspect_sqlite(target.path, busy_timeout_s, quick_check=checked)
            check_revision(target.label, tables, revision)
    engine = bare_engine(target, busy_timeout_s)
    try:
        migrate(engine, target)
    except (StoreInputError, StoreUnavailable):
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        raise unavailable(target, exc) from None
    except DBAPIError as exc:
        engine.dispose()
        raise StoreInputError(f"{target.label}: cannot use the database ({first_line(exc)})"
                              ) from None
    if target.path is not None:
        _tighten(target.path)
    return engine, checked


def bare_engine(target: Target, busy_timeout_s: float = 5.0) -> Engine:
    """An engine with our connection settings, not yet connected (nor migrated)."""
    if target.is_sqlite:
        engine = create_engine(target.url, connect_args={"timeout": busy_timeout_s})
        _sqlite_settings(engine, busy_timeout_s)
        return engine
    engine = create_engine(target.url, pool_pre_ping=True, pool_size=2, max_overflow=2,
                           connect_args=pg_connect_args(busy_timeout_s))
    opened: weakref.WeakSet[Any] = weakref.WeakSet()
    _SERVER_CONNECTIONS[engine] = opened

    @event.listens_for(engine, "connect")
    def _remember(dbapi_connection: Any, _record: Any) -> None:
        opened.add(dbapi_connection)

    return engine


# Each PostgreSQL engine's open connections, so a watchdog can break one stuck on a
# frozen server (see `break_stalled`).
_SERVER_CONNECTIONS: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[Any]] = \
    weakref.WeakKeyDictionary()


def break_stalled(engine: Engine) -> int:
    """Shut down the socket of every connection of `engine` waiting for the server's
    answer (a query in flight). Called by the write queue's watchdog when a write is past
    its deadline: a frozen server (SIGSTOP, a hung disk) still lets the kernel accept and
    acknowledge our bytes, so neither TCP keepalives nor the server's statement timeout
    ever fire, and the writer would wait forever. The waiting call then fails at once,
    the batch stays pending (and journaled) and is retried. Returns how many were broken.
    SQLite needs none of this (its busy timeout bounds every wait)."""
    from psycopg.pq import TransactionStatus

    broken = 0
    for conn in list(_SERVER_CONNECTIONS.get(engine.engine, ())):
        try:
            if conn.pgconn.transaction_status != TransactionStatus.ACTIVE:
                continue
            sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.close()
            broken += 1
        except (OSError, ValueError, AttributeError):
            continue
    return broken


def pg_connect_args(busy_timeout_s: float) -> dict[str, Any]:
    """A server that stops answering must never hold a write forever: a connect timeout,
    TCP keepalives and a user timeout (a dead network is noticed within ~10 s), and
    statement / lock / idle-in-transaction timeouts enforced by the server. A server that
    is alive on the network but frozen (SIGSTOP, a hung disk) answers none of these: the
    write queue's own deadline catches that (write_queue.WRITE_DEADLINE_S)."""
    ms = int(WRITE_DEADLINE_S * 1000)
    return {"connect_timeout": max(1, int(busy_timeout_s)), "keepalives": 1,
            "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
            "tcp_user_timeout": ms,
            "options": f"-c statement_timeout={ms} -c lock_timeout={ms} "
                       f"-c idle_in_transaction_session_timeout={ms * 3}"}


WRITE_DEADLINE_S = 8.0  # a write not done by then is late: the records alarm goes up


def unavailable(target: Target, exc: BaseException) -> StoreUnavailable | StoreInputError:
    text = first_line(exc)
    if "malformed" in text or "not a database" in text:
        return StoreInputError(f"{target.label}: the database is damaged ({text}); it was "
                               "left unchanged — restore a backup")
    if "locked" in text or "busy" in text:
        return StoreUnavailable(f"{target.label}: the database is locked by another program "
                                "(close it, or wait, and try again)")
    return StoreUnavailable(f"{target.label}: cannot reach the database ({text})")


def first_line(exc: BaseException) -> str:
    """The first line of a database error (the driver's own message when there is one)."""
    orig = (exc.orig if isinstance(exc, DBAPIError) else None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _sqlite_settings(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("oximon_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def writing(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the write lock up front."""
    return engine.execution_options(oximon_write=True)


def migrate(engine: Engine, target: Target) -> None:
    """Bring the schema to the newest revision (one migrator at a time on PostgreSQL). A
    store already at the newest revision is only read (a reader never waits for the write
    lock of a monitoring run)."""
    with engine.connect() as conn:
        if _at_head(conn, target):
            return
    cfg = alembic_config()
    with writing(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # a migration may be long
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        if _at_head(conn, target):
            return
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except RuntimeError as exc:  # a migration that cannot run on this data
            raise StoreInputError(f"{target.label}: cannot upgrade the database: {exc} "
                                  "(left unchanged)") from None


def _at_head(conn: Connection, target: Target) -> bool:
    _known, heads = known_revisions()
    current = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names())
    check_revision(target.label, tables - {"alembic_version"}
                   if target.is_sqlite else tables & OUR_TABLES, current)
    return current in heads


def _tighten(path: Path) -> None:
    """The file and its WAL/SHM companions are private (0600)."""
    for p in (path, *sqlite_companions(path)):
        try:
            if p.exists() and p.stat().st_mode & 0o077:
                p.chmod(0o600)
        except OSError:
            pass
