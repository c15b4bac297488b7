"""SQL adapters (SQLite and PostgreSQL through SQLAlchemy and advanced-alchemy): schema, repositories, unit of
work.

Import the pieces from their modules (``models``, ``repositories``, ``unit_of_work``, ``database``); importing
this package builds nothing.
"""
