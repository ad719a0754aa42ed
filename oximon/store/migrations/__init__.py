"""Alembic migrations for the store, run programmatically when a store is opened."""
