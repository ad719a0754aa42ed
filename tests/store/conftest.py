"""Fixtures for the store tests: every test that takes `db_url` runs on SQLite and, when
OXIMON_TEST_PG_URL is set (eval "$(bash .ci/start-postgres)"), on PostgreSQL in a fresh database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from oximon.store.scratch import scratch_database
from tests.store.storerig import Rig

PG_URL = os.environ.get("OXIMON_TEST_PG_URL")
PG_SKIP = ("PostgreSQL not configured: set OXIMON_TEST_PG_URL, e.g. "
           "eval \"$(bash .ci/start-postgres)\" (as root)")


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
    with scratch_database(PG_URL, prefix="oximon_t") as url:
        yield url


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
