"""The site's live tables and channels in PostgreSQL (the database the site already runs).

Live state is not a record: these tables hold *now* (one row per booth, one per hub, the
commands screens send), so they are made with `CREATE TABLE IF NOT EXISTS` by whoever first
runs (or by `oximon site init` under the owner role, see the README's roles), not by the
incident store's migrations. Push is PostgreSQL's LISTEN/NOTIFY: nothing of oximon
listens on the network.

- `site_hubs`: a hub's heartbeat (database clock) and audio pause; `lock_key` is the
  session advisory lock the hub's publishing connection holds for as long as it lives,
  so a killed hub is seen at once (its connection ends) and two hubs of one name cannot run.
- `site_booths`: each booth's published state (oximon.site.state.BoothState as JSON).
- `site_commands`: acknowledgements, audio pauses and logged responses from any screen,
  applied by the owning hub's alarm manager, which writes when and with what result.
"""

from __future__ import annotations

import zlib

import psycopg
from sqlalchemy.engine import make_url

from oximon.store import StoreInputError

STATE_CHANNEL = "oximon_site"  # hub -> screens: a booth's state (JSON) or "hub:NAME"
COMMAND_CHANNEL = "oximon_site_cmd"  # screen -> hubs: the hub name a command is for
LOCK_CLASS = 17017  # first key of every hub's advisory lock (the second: lock_key)

DDL = """
CREATE TABLE IF NOT EXISTS site_hubs (
    hub TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    run TEXT NOT NULL,
    lock_key INTEGER NOT NULL,
    booths JSONB NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    beat_at TIMESTAMPTZ NOT NULL,
    stopped_at TIMESTAMPTZ,
    paused_by TEXT NOT NULL DEFAULT '',
    pause_left_s REAL NOT NULL DEFAULT 0,
    resumed_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS site_booths (
    booth TEXT PRIMARY KEY,
    hub TEXT NOT NULL,
    state JSONB NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS site_commands (
    id BIGSERIAL PRIMARY KEY,
    hub TEXT NOT NULL,
    booth TEXT,
    action TEXT NOT NULL,
    condition TEXT,
    seconds REAL,
    payload JSONB,
    by TEXT NOT NULL,
    from_host TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_at TIMESTAMPTZ,
    result TEXT
);
CREATE INDEX IF NOT EXISTS site_commands_pending ON site_commands (hub)
    WHERE applied_at IS NULL;
-- made by an earlier version: its CHECK named three actions, and it had no payload
ALTER TABLE site_commands DROP CONSTRAINT IF EXISTS site_commands_action_check;
ALTER TABLE site_commands ADD COLUMN IF NOT EXISTS payload JSONB;
ALTER TABLE site_hubs ADD COLUMN IF NOT EXISTS resumed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE site_commands ADD CONSTRAINT site_commands_action_check CHECK (action IN (
    'acknowledge', 'pause_audio', 'resume_audio', 'note_response', 'incident'));
"""
# The newest columns: when they are there, the live tables are as this version makes them, and
# a role with no right to change the schema (README, roles) runs without trying.
CURRENT = ("SELECT count(*) FROM information_schema.columns WHERE table_schema = "
           "current_schema() AND (table_name, column_name) IN (('site_commands', 'payload'), "
           "('site_hubs', 'resumed_by'))")


def libpq_url(db: str) -> str:
    """The `[site] db` URL as libpq takes it (SQLAlchemy's `+psycopg` removed). Anything
    but PostgreSQL is bad input: live state and push need a server every computer reaches."""
    try:
        url = make_url(db)
    except Exception:
        raise StoreInputError(f"[site] db {db!r}: not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise StoreInputError(f"[site] db {url.render_as_string()!r}: a site of several "
                              "computers needs PostgreSQL (postgresql://...)")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def lock_key(hub: str) -> int:
    """A stable 31-bit key for the hub's advisory lock."""
    return zlib.crc32(hub.encode()) & 0x7FFFFFFF


def connect(url: str, role: str, timeout_s: float = 5.0) -> psycopg.Connection:
    """An autocommit connection named for pg_stat_activity ('oximon hub room-1')."""
    return psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout_s)),
                           application_name=f"oximon {role}"[:63])


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create (or bring up to date) the live tables if needed (one creator at a time)."""
    row = conn.execute(CURRENT).fetchone()
    if row is not None and row[0] == 2:
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
        conn.execute(DDL)
