"""Alembic migrations. They own the schema; versions import nothing from parley."""
