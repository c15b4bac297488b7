"""G1 declared data only: the schema and the data map describe exactly the same tables and columns."""

from __future__ import annotations

from sqlalchemy import LargeBinary

from dreamina.adapters.sql.schema import metadata
from dreamina.bootstrap import declared_data_map

DATA_MAP = declared_data_map()
TABLES = {name: store for name, store in DATA_MAP.stores.items() if store.table}


def _schema_columns() -> set[tuple[str, str]]:
    return {(table.name, column.name) for table in metadata.sorted_tables for column in table.columns}


def _declared_columns() -> set[tuple[str, str]]:
    return {(store, name) for store, declared in TABLES.items() for name in declared.fields}


def test_every_table_is_a_declared_store_and_back() -> None:
    assert set(metadata.tables) == set(TABLES)
    assert set(DATA_MAP.stores) - set(TABLES) == {"mail_outbox_folder"}  # the one store that is files


def test_every_column_is_declared() -> None:
    assert DATA_MAP.undeclared_columns(_schema_columns()) == []


def test_every_declared_field_is_a_column() -> None:
    assert sorted(_declared_columns() - _schema_columns()) == []


def test_store_names_match_their_keys() -> None:
    assert all(key == store.name for key, store in DATA_MAP.stores.items())


def test_personal_fields_have_a_purpose_and_a_retention_rule() -> None:
    missing = [
        f"{store}.{name}"
        for store, declared in DATA_MAP.stores.items()
        for name, field in declared.fields.items()
        if field.personal and (not field.purposes or not field.retention.description or not field.description)
    ]
    assert missing == []


def test_encrypted_fields_are_binary_columns() -> None:
    encrypted = [
        (store, name)
        for store, declared in DATA_MAP.stores.items()
        for name, field in declared.fields.items()
        if field.encrypted
    ]
    assert encrypted, "the data map declares no encrypted field at all"
    not_binary = [
        f"{store}.{name}"
        for store, name in encrypted
        if not isinstance(metadata.tables[store].columns[name].type, LargeBinary)
    ]
    assert not_binary == []


def test_every_named_processor_is_declared() -> None:
    known = {processor.id for processor in DATA_MAP.processors}
    named = {
        (f"{store}.{name}", processor)
        for store, declared in DATA_MAP.stores.items()
        for name, field in declared.fields.items()
        for processor in field.processors
    }
    named |= {(prefix.prefix, processor) for prefix in DATA_MAP.object_prefixes for processor in prefix.processors}
    assert sorted((where, p) for where, p in named if p not in known) == []


def test_processor_ids_are_unique() -> None:
    ids = [processor.id for processor in DATA_MAP.processors]
    assert len(ids) == len(set(ids))
