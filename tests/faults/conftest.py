"""The store tests' backends (SQLite always, PostgreSQL when OXIMON_TEST_PG_URL is set)."""

from tests.store.conftest import db_url, pg_url  # noqa: F401  (fixtures shared as they are)
