"""The SQL schema's shared pieces: one ``MetaData`` with named constraints and the declarative ``Base``.

Every ``models_<module>.py`` declares its tables on this ``Base``; :mod:`dreamina.adapters.sql.schema` imports them all
so alembic and the tests see the whole schema.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints let alembic drop and alter them on both databases (SQLite batch mode needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata
