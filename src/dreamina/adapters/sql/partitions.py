"""Time-range partitions of the append-heavy stores on PostgreSQL (retention by partition, guarantee G7).

``analytics_events`` (a partition per day of ``day``; 180 days kept, so a day's partition expires whole),
``audit_events`` (per calendar month of ``occurred_at``, UTC; 3 years) and ``processed_payment_events`` (per month of
``received_at``; 90 days) are range-partitioned on PostgreSQL by migration ``0017``, each with a default partition
so that an insert never fails for lack of a partition. SQLite keeps plain tables.

- **Ahead**: the retention sweep makes the partitions of the current period and the next few (:meth:`prepare`),
  so rows land in their own period's partition; rows the default partition holds for a period being created are
  moved into it in the same transaction.
- **Whole periods**: a partition whose upper bound is at or before the retention cutoff holds only expired rows; the
  sweep counts its rows exactly and drops it (:meth:`drop_expired`), a bounded run of partitions per transaction.
- **The rest** (the period the cutoff falls in, the default partition) goes in bounded batches
  (:func:`delete_oldest`), oldest first, each row by its partition and physical address.

Partition maintenance takes ``ACCESS EXCLUSIVE`` on the parent table (as ``CREATE ... PARTITION OF`` and ``DROP`` of
a partition do anyway), under a short ``lock_timeout``: a sweep that cannot have the lock at once gives up the
partition work for this run and the batches do what is due. So does a database role that may not change the tables
(partition work needs the role that owns them, as migrations do); both are logged. ``DETACH PARTITION ...
CONCURRENTLY`` is refused while a default partition exists, and a plain ``DETACH`` takes the same lock as the
``DROP`` that detaches the partition anyway, so an expired partition is dropped directly (a separate ``DETACH``
measured 1.7 ms more per partition and bought nothing). Two sweeps at once serialise on that lock; the second finds
the first's partitions gone, so every row is counted once. The sweep itself keeps two such transactions in flight
(``domain/privacy/retention.WHOLE_PERIODS_IN_FLIGHT``): PostgreSQL releases the lock at commit before it removes the
dropped partitions' files, so while one commit removes them the next transaction counts and drops the next run
(1,000,000 rows over 400 days: the analytics task 0.67 -> 0.46 s, ``bench/retention.py``).

Partitions are named ``<table>_pYYYYMMDD`` (daily) or ``<table>_pYYYYMM`` (monthly) and ``<table>_default``; the
names are what the sweep reads a partition's period from (it makes them all itself, like migration ``0017``).
Statements here are spelled with f-strings (``noqa: S608``): what they splice in are only the table, column and
partition names of the specs below or of the catalog, and bounds formatted from dates, never a caller's value.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dreamina.adapters.logs import get_logger
from dreamina.adapters.sql.repository_kit import rowcount

LOCK_TIMEOUT = "2s"
"""How long partition maintenance waits for the parent table's lock (inserts queue behind a waiting lock)."""
PARTITIONS_PER_TRANSACTION = 50
"""Expired partitions dropped per transaction: about 55 ms of holding the parent's lock (measured)."""
_LOCK_NOT_AVAILABLE = "55P03"
_INSUFFICIENT_PRIVILEGE = "42501"  # e.g. a role that does not own the table

log = get_logger("dreamina.retention")

Connectable = AsyncSession | AsyncConnection


@dataclass(frozen=True, slots=True)
class Partitioning:
    """How one table is partitioned: by ``column`` in days or calendar months, ``ahead`` periods made in advance."""

    table: str
    column: str
    monthly: bool
    ahead: int
    timestamped: bool  # ``timestamptz`` column (bounds at midnight UTC) rather than ``date``

    @property
    def default(self) -> str:
        return f"{self.table}_default"

    def start(self, moment: date | datetime) -> date:
        """The first day of the period holding ``moment`` (a datetime counts in UTC)."""
        day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
        return day.replace(day=1) if self.monthly else day

    def following(self, start: date) -> date:
        if not self.monthly:
            return start + timedelta(days=1)
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)

    def name(self, start: date) -> str:
        return f"{self.table}_p{start:%Y%m}" if self.monthly else f"{self.table}_p{start:%Y%m%d}"

    def start_of(self, name: str) -> date | None:
        """The period a partition's name stands for (None: not one of this table's period partitions)."""
        digits = 6 if self.monthly else 8
        found = re.fullmatch(rf"{re.escape(self.table)}_p(\d{{{digits}}})", name)
        if found is None:
            return None
        value = found.group(1)
        return date(int(value[:4]), int(value[4:6]), 1 if self.monthly else int(value[6:]))

    def bound(self, start: date) -> str:
        return f"'{start:%Y-%m-%d} 00:00:00+00'" if self.timestamped else f"'{start:%Y-%m-%d}'"

    def expired(self, start: date, cutoff: date | datetime) -> bool:
        """Whether every row the period can hold is before ``cutoff``: its (exclusive) end is at or before it."""
        end = self.following(start)
        if isinstance(cutoff, datetime):
            return datetime(end.year, end.month, end.day, tzinfo=UTC) <= cutoff
        return end <= cutoff


ANALYTICS_EVENTS = Partitioning("analytics_events", "day", monthly=False, ahead=14, timestamped=False)
AUDIT_EVENTS = Partitioning("audit_events", "occurred_at", monthly=True, ahead=3, timestamped=True)
HANDLED_PAYMENT_EVENTS = Partitioning(
    "processed_payment_events", "received_at", monthly=True, ahead=3, timestamped=True
)
PARTITIONED = (ANALYTICS_EVENTS, AUDIT_EVENTS, HANDLED_PAYMENT_EVENTS)

_PARTITION_NAME = re.compile(rf"({'|'.join(p.table for p in PARTITIONED)})_(p\d{{6}}|p\d{{8}}|default)")


def is_partition(table_name: str) -> bool:
    """Whether ``table_name`` is one of the partitions (not part of the models; alembic leaves them out)."""
    return _PARTITION_NAME.fullmatch(table_name) is not None


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _partitions(connection: Connectable, spec: Partitioning) -> dict[date, str]:
    """The table's period partitions now attached, by the first day of their period."""
    found = await connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": spec.table},
    )
    partitions = {}
    for (name,) in found:
        start = spec.start_of(name)
        if start is not None:
            partitions[start] = name
    return partitions


async def _expired_partitions(
    connection: Connectable, spec: Partitioning, cutoff: date | datetime, limit: int
) -> dict[date, str]:
    """The oldest ``limit`` partitions whose whole period is before ``cutoff``, found in the catalog by name (the
    names sort as their periods do): those before the partition of the period ``cutoff`` falls in. Only these rows
    come back, not one per partition (600 and more for a table kept by day: a few ms of work per transaction)."""
    found = await connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent) AND c.relname LIKE :named AND c.relname < :bound "
            "ORDER BY c.relname LIMIT :limit"
        ),
        {
            "parent": spec.table,
            "named": spec.table.replace("_", r"\_") + r"\_p%",
            "bound": spec.name(spec.start(cutoff)),
            "limit": limit,
        },
    )
    partitions = {}
    for (name,) in found:
        start = spec.start_of(name)
        if start is not None and spec.expired(start, cutoff):
            partitions[start] = name
    return partitions


async def _locked(connection: Connectable, spec: Partitioning) -> None:
    """Take the parent table's ``ACCESS EXCLUSIVE`` lock for the rest of the transaction, waiting at most
    :data:`LOCK_TIMEOUT` (``DBAPIError`` with SQLSTATE 55P03 then)."""
    await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    await connection.execute(text(f'LOCK TABLE ONLY "{spec.table}" IN ACCESS EXCLUSIVE MODE'))


def _deferred(error: DBAPIError, spec: Partitioning, work: str) -> bool:
    """Whether ``error`` only means the partition work cannot be done now (logged; the batches do what is due):
    the lock was not to be had at once, or the database role may not change the table (not the owner)."""
    state = getattr(error.orig, "sqlstate", None)
    if state == _LOCK_NOT_AVAILABLE:
        log.info("retention_partitions_deferred", table=spec.table, work=work, reason="lock_timeout")
        return True
    if state == _INSUFFICIENT_PRIVILEGE:
        log.warning("retention_partitions_unavailable", table=spec.table, work=work, reason="insufficient_privilege")
        return True
    return False


async def _create(connection: Connectable, spec: Partitioning, start: date) -> None:
    """Make the partition of the period starting ``start``, moving in any rows the default partition holds for it
    (a default partition that holds rows of the new range would refuse it)."""
    name, after = spec.name(start), spec.following(start)
    bounds = f"FROM ({spec.bound(start)}) TO ({spec.bound(after)})"
    within = f'"{spec.column}" >= {spec.bound(start)} AND "{spec.column}" < {spec.bound(after)}'
    strays = await connection.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{spec.default}" WHERE {within})'))  # noqa: S608
    if not strays.scalar_one():
        await connection.execute(text(f'CREATE TABLE "{name}" PARTITION OF "{spec.table}" FOR VALUES {bounds}'))
        return
    await connection.execute(text(f'CREATE TABLE "{name}" (LIKE "{spec.table}" INCLUDING DEFAULTS)'))
    moved = f'WITH moved AS (DELETE FROM "{spec.default}" WHERE {within} RETURNING *) '  # noqa: S608
    await connection.execute(text(f'{moved} INSERT INTO "{name}" SELECT * FROM moved'))  # noqa: S608
    await connection.execute(text(f'ALTER TABLE "{spec.table}" ATTACH PARTITION "{name}" FOR VALUES {bounds}'))


async def create_partitions(connection: Connectable, spec: Partitioning, first: date, last: date) -> int:
    """Make every missing partition of the periods from the one holding ``first`` to the one holding ``last``, in
    the caller's transaction (the parent's lock is taken when one is missing); returns how many were made."""
    wanted = [spec.start(first)]
    while wanted[-1] < spec.start(last):
        wanted.append(spec.following(wanted[-1]))
    existing = await _partitions(connection, spec)
    if all(start in existing for start in wanted):
        return 0
    await _locked(connection, spec)
    existing = await _partitions(connection, spec)  # another sweep may have made some meanwhile
    missing = [start for start in wanted if start not in existing]
    for start in missing:
        await _create(connection, spec, start)
    return len(missing)


async def prepare(session: AsyncSession, spec: Partitioning, today: date) -> None:
    """Make the partitions of the current period and the :attr:`Partitioning.ahead` next ones; without the lock at
    once (a long reader), nothing now: rows land in the default partition until the next sweep makes them."""
    last = spec.start(today)
    for _ in range(spec.ahead):
        last = spec.following(last)
    try:
        async with session.begin_nested():
            await create_partitions(session, spec, today, last)
    except DBAPIError as error:
        if not _deferred(error, spec, "prepare"):
            raise


async def drop_expired(session: AsyncSession, spec: Partitioning, cutoff: date | datetime) -> int | None:
    """Drop up to :data:`PARTITIONS_PER_TRANSACTION` partitions, oldest first, whose whole period is before
    ``cutoff``; returns how many rows they held (counted exactly under the lock), or None when there is none (or the
    lock was not to be had)."""
    if not await _expired_partitions(session, spec, cutoff, 1):
        return None
    try:
        async with session.begin_nested():
            await _locked(session, spec)
            # a sweep running beside this one may have dropped some meanwhile
            partitions = await _expired_partitions(session, spec, cutoff, PARTITIONS_PER_TRANSACTION)
            doomed = sorted(partitions)
            if not doomed:
                return None
            names = [f'"{partitions[start]}"' for start in doomed]
            # one statement for the counts and one for the drops, whatever the number of partitions
            counts = " UNION ALL ".join(f"SELECT count(*) AS n FROM {name}" for name in names)  # noqa: S608
            rows = int((await session.execute(text(f"SELECT sum(n) FROM ({counts}) AS c"))).scalar_one())  # noqa: S608
            await session.execute(text(f"DROP TABLE {', '.join(names)}"))
            return rows
    except DBAPIError as error:
        if not _deferred(error, spec, "drop"):
            raise
        return None


async def delete_oldest(session: AsyncSession, spec: Partitioning, cutoff: Any, limit: int) -> int:
    """Delete at most ``limit`` of the oldest rows before ``cutoff``, in whichever partitions they are; rows another
    transaction holds are skipped. The batch is located through the parent (oldest first across partitions, locked)
    and deleted from each partition by physical address: a ``ctid`` is only unique within one partition, and a
    join back through the parent would scan every partition."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    located = f'SELECT tableoid::regclass::text, ctid::text FROM "{spec.table}" WHERE "{spec.column}" < :cutoff'  # noqa: S608
    oldest = f'{located} ORDER BY "{spec.column}" LIMIT :limit FOR UPDATE SKIP LOCKED'
    batch = await session.execute(text(oldest), {"cutoff": cutoff, "limit": limit})
    by_partition: defaultdict[str, list[str]] = defaultdict(list)
    for part, address in batch:
        by_partition[part].append(address)
    deleted = 0
    for part, addresses in by_partition.items():
        # ``part`` is the catalog's own rendering of the partition's name (quoted where it needs to be)
        result = await session.execute(
            text(f"DELETE FROM {part} WHERE ctid = ANY(CAST(CAST(:addresses AS text[]) AS tid[]))"),  # noqa: S608
            {"addresses": addresses},
        )
        deleted += rowcount(result)
    return deleted
