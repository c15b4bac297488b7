"""``repository_kit.DriverWrite``: an append that may be sent at the commit straight on asyncpg is compiled once, is
nothing but an ``INSERT``, and hands asyncpg each value as SQLAlchemy's own execution on the same dialect would
(its types' bind processors: a strict boolean, a timestamp turned to UTC and refused without a zone, JSON with the
engine's serializer)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Integer, bindparam, create_engine, text

from dreamina.adapters.sql.repository_kit import DriverWrite


def _write() -> DriverWrite:
    statement = text("INSERT INTO t (n, flag, at, doc) VALUES (:n, :flag, :at, :doc)").bindparams(
        bindparam("n", type_=Integer),
        bindparam("flag", type_=Boolean),
        bindparam("at", type_=DateTimeUTC(timezone=True)),
        bindparam("doc", type_=JSON),
    )
    return DriverWrite(statement)


def _dialect(serializer: object = json.dumps) -> object:
    return create_engine("postgresql+asyncpg://u@127.0.0.1/d", json_serializer=serializer).dialect


def test_only_an_insert_compiled_once_may_wait_for_the_commit() -> None:
    with pytest.raises(ValueError, match="INSERT"):
        DriverWrite(text("DELETE FROM t WHERE n = :n").bindparams(bindparam("n", type_=Integer)))
    with pytest.raises(ValueError, match="INSERT"):
        DriverWrite(text("SELECT 1"))
    assert _write().sql.startswith("INSERT INTO t (n, flag, at, doc) VALUES ($1::INTEGER, $2::BOOLEAN")


def test_each_value_is_converted_as_sqlalchemys_execution_converts_it() -> None:
    write = _write()
    east = timezone(timedelta(hours=5))
    at = datetime(2026, 11, 30, 12, 0, tzinfo=east)
    args = write.args(_dialect(), {"doc": {"b": [1, None]}, "at": at, "flag": True, "n": 7})
    assert args[0] == 7 and args[1] is True
    assert args[2] == at and args[2].tzinfo == UTC  # the same instant, in UTC
    assert json.loads(args[3]) == {"b": [1, None]}
    with pytest.raises(TypeError, match="tzinfo"):
        write.args(_dialect(), {"doc": None, "at": at.replace(tzinfo=None), "flag": True, "n": 7})
    with pytest.raises(TypeError):
        write.args(_dialect(), {"doc": None, "at": at, "flag": "yes", "n": 7})


def test_the_processors_are_the_dialects_own() -> None:
    """Each engine's dialect converts with its own settings (here its JSON serializer), not a default one."""
    write = _write()
    marked = _dialect(lambda value: "marked:" + json.dumps(value))
    params = {"doc": [1], "at": None, "flag": None, "n": None}
    assert write.args(marked, params)[3] == "marked:[1]"
    assert write.args(_dialect(), params)[3] == "[1]"
