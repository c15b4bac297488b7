"""Migration scripts, one history for SQLite and PostgreSQL (alembic skips this file)."""
