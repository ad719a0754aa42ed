"""Fixtures for the store tests: every test that takes `db_url` runs on SQLite and, when
OXIMON_TEST_PG_URL is set (eval "$(.ci/start-postgres)"), on PostgreSQL in a fresh database."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from storerig import Rig

PG_URL = os.environ.get("OXIMON_TEST_PG_URL")
PG_SKIP = ("PostgreSQL not configured: set OXIMON_TEST_PG_URL, e.g. "
           "eval \"$(sudo .ci/start-postgres)\"")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
        return
    yield from _pg_database()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (for the few PostgreSQL-only tests)."""
    yield from _pg_database()


def _pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    base = make_url(PG_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"oximon_t_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False).replace(
            "+psycopg", "")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def rig(db_url: str) -> Iterator[Rig]:
    r = Rig(db_url)
    yield r
    r.close()


@pytest.fixture
def make_rig(db_url: str) -> Iterator:
    made: list[Rig] = []

    def make(**options) -> Rig:
        r = Rig(db_url, **options)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()
