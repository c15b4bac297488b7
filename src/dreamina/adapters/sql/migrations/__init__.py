"""Alembic migrations, shipped in the package. Run them with ``dreamina.adapters.sql.database.upgrade``."""
