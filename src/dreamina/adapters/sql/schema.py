"""The whole relational schema: every module's tables on one ``MetaData`` (what alembic compares migrations with).

Portable between SQLite and PostgreSQL: types come from advanced-alchemy, so one schema and one migration history
serve both (``GUID`` is ``uuid`` on PostgreSQL and ``BINARY(16)`` on SQLite, ``DateTimeUTC`` stores UTC and returns
aware values, ``JsonB`` is ``jsonb`` or JSON text). Sealed (encrypted) values are ``LargeBinary``; strings are
unbounded on purpose (a length limit would fail on PostgreSQL and pass on SQLite). A new module adds its
``models_<module>`` here.
"""

from __future__ import annotations

from dreamina.adapters.sql import (
    models_abuse_reports,
    models_billing,
    models_child_reports,
    models_consent,
    models_data_rights,
    models_generation,
    models_identity,
    models_kernel,
    models_marketing,
    models_moderation,
    models_policy,
    models_processor_notices,
    models_sandbox,
    models_support,
)
from dreamina.adapters.sql.base import metadata

MODULE_TABLES = (
    models_kernel,
    models_identity,
    models_policy,
    models_consent,
    models_marketing,
    models_generation,
    models_moderation,
    models_billing,
    models_sandbox,
    models_data_rights,
    models_processor_notices,
    models_child_reports,
    models_abuse_reports,
    models_support,
)
"""The modules whose import registers their tables on :data:`metadata`."""

__all__ = ["MODULE_TABLES", "metadata"]
