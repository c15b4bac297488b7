"""The generation repositories over one ``AsyncSession`` (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, any_, bindparam, delete, func, literal_column, null, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_generation import GenerationReferenceRow, GenerationRow, UploadRow, folded_upload_ids
from dreamina.adapters.sql.models_identity import AccountRow
from dreamina.adapters.sql.models_kernel import SubjectKeyRow
from dreamina.adapters.sql.repositories_kernel import KEY_ALONG, keep_key_read_along
from dreamina.adapters.sql.repository_kit import (
    READ_ONLY,
    DriverRead,
    SqlRepositories,
    SqlRepository,
    by_value,
    insert_into,
    is_foreign_key_violation,
    oldest_first,
    retention_batch,
)
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.generation import (
    Generation,
    GenerationKind,
    GenerationOutput,
    GenerationPage,
    GenerationStatus,
    Upload,
)

_TERMINAL = [s.value for s in GenerationStatus if s.terminal]


def _upload(row: Any) -> Upload:
    return Upload(
        id=row.id,
        subject_id=row.subject_id,
        object_key=row.object_key,
        content_type=row.content_type,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        created_at=row.created_at,
    )


# The owner's content-retention setting lives on ``accounts`` (identity's table); these adapters read it through
# the indexed ``content_retention_days`` column, one indexed range of ``generations`` or ``uploads`` (both indexed
# on subject_id, created_at) per distinct period, so no table is scanned and the domain modules stay apart.
async def _retention_periods(session: AsyncSession) -> list[int]:
    statement = (
        select(AccountRow.content_retention_days)
        .where(AccountRow.content_retention_days.is_not(None))
        .distinct()
        .order_by(AccountRow.content_retention_days)
    )
    return [days for days in (await session.execute(statement)).scalars() if days is not None]


def _past_owner_retention(subject_id: Any, created_at: Any, days: int, now: datetime) -> tuple[Any, ...]:
    owners = select(AccountRow.id).where(AccountRow.content_retention_days == days)
    return (subject_id.in_(owners), created_at < now - timedelta(days=days))


_Due = Callable[[int, datetime], tuple[Any, ...]]  # the WHERE clauses of one period's rows past it


async def _count_past_owner_retention(session: AsyncSession, table: Any, due: _Due, now: datetime) -> int:
    check_time("now", now)
    total = 0
    for days in await _retention_periods(session):
        statement = select(func.count()).select_from(table).where(*due(days, now))
        total += int((await session.execute(statement)).scalar_one())
    return total


async def _lock_past_owner_retention(
    session: AsyncSession, table: Any, due: _Due, now: datetime, limit: int
) -> list[Any]:
    """At most ``limit`` rows past their owner's setting, oldest first per period, locked (skip-locked)."""
    check_time("now", now)
    rows: list[Any] = []
    for days in await _retention_periods(session):
        if len(rows) >= limit:
            break
        oldest = select(table).where(*due(days, now)).order_by(table.c.created_at, table.c.id)
        rows.extend(await session.execute(retention_batch(oldest, limit - len(rows))))
    return rows


def newest_first(statement: Any, created_at: Any, ident: Any, before: tuple[datetime, UUID] | None, limit: int) -> Any:
    """Keyset paging, newest first: rows older than ``before`` (created_at, id), at most ``limit``."""
    if before is not None:
        at, last = before
        check_time("before", at)
        statement = statement.where(or_(created_at < at, and_(created_at == at, ident < last)))
    return statement.order_by(created_at.desc(), ident.desc()).limit(limit)


class SqlUploadRepository(SqlRepository):
    """:class:`~dreamina.ports.generation.UploadRepository` over ``uploads``."""

    _table = UploadRow.__table__

    async def add(self, upload: Upload) -> None:
        check_text("object_key", upload.object_key)
        check_text("content_type", upload.content_type)
        check_time("created_at", upload.created_at)
        statement = insert_into(UploadRow).values(
            id=upload.id,
            subject_id=upload.subject_id,
            object_key=upload.object_key,
            content_type=upload.content_type,
            width=upload.width,
            height=upload.height,
            bytes=upload.bytes,
            created_at=upload.created_at,
        )
        await self._write(statement, conflict="this upload already exists")

    async def get(self, upload_id: UUID) -> Upload | None:
        row = (await self._session.execute(select(self._table).where(UploadRow.id == upload_id))).first()
        return None if row is None else _upload(row)

    async def delete(self, upload_id: UUID) -> bool:
        return await self._write(delete(UploadRow).where(UploadRow.id == upload_id), conflict="upload in use") > 0

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: tuple[datetime, UUID] | None
    ) -> tuple[list[Upload], bool]:
        statement = select(self._table).where(UploadRow.subject_id == subject_id)
        statement = newest_first(statement, UploadRow.created_at, UploadRow.id, before, limit + 1)
        rows = [_upload(row) for row in await self._session.execute(statement)]
        return rows[:limit], len(rows) > limit

    async def list_for_subject(self, subject_id: UUID) -> list[Upload]:
        statement = (
            select(self._table).where(UploadRow.subject_id == subject_id).order_by(UploadRow.created_at, UploadRow.id)
        )
        return [_upload(row) for row in await self._session.execute(statement)]

    async def count_for_subject(self, subject_id: UUID) -> int:
        return await self._count(self._table, UploadRow.subject_id == subject_id)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        try:
            return await self._write(delete(UploadRow).where(UploadRow.subject_id == subject_id), conflict="in use")
        except NotFound:  # the foreign key of a reference link: a generation still uses one
            raise Conflict("a generation still references one of these uploads") from None

    @staticmethod
    def _unused_past_retention(days: int, now: datetime) -> tuple[Any, ...]:
        used = select(GenerationReferenceRow.upload_id).where(GenerationReferenceRow.upload_id == UploadRow.id)
        return (*_past_owner_retention(UploadRow.subject_id, UploadRow.created_at, days, now), ~used.exists())

    async def count_unused_past_owner_retention(self, now: datetime) -> int:
        return await _count_past_owner_retention(self._session, self._table, self._unused_past_retention, now)

    async def lock_unused_past_owner_retention(self, now: datetime, limit: int) -> list[Upload]:
        rows = await _lock_past_owner_retention(self._session, self._table, self._unused_past_retention, now, limit)
        return [_upload(row) for row in rows]


_KINDS, _STATUSES = by_value(GenerationKind), by_value(GenerationStatus)  # a page maps twenty rows


def _outputs(value: list[dict[str, Any]]) -> tuple[GenerationOutput, ...]:
    if not value:  # a queued or running job: no generator made to find nothing
        return ()
    return tuple(GenerationOutput(str(o["object_key"]), str(o["content_type"]), int(o["bytes"])) for o in value)


_KEY_OF_SUBJECT = tuple(
    select(column).where(SubjectKeyRow.subject_id == bindparam("subject_id")).scalar_subquery().label(name)
    for name, column in KEY_ALONG.items()
)
_KEY_NULLS = tuple(null().label(name) for name in KEY_ALONG)


def _newest_first(columns: Sequence[Any], *where: Any) -> Select[Any]:
    """A page of ``columns`` of the generations matching ``where``, newest first, ``limit`` rows."""
    table = GenerationRow.__table__
    return (
        select(*columns).where(*where).order_by(table.c.created_at.desc(), table.c.id.desc()).limit(bindparam("limit"))
    )


class SqlGenerationRepository(SqlRepository):
    """:class:`~dreamina.ports.generation.GenerationRepository` over ``generations`` and
    ``generation_references``."""

    _table = GenerationRow.__table__
    # Built once: a page of generations is a hot read (the newest page, and the pages after a cursor). On PostgreSQL
    # and on an SQLite reader thread each row carries its references (in order) in the same statement: one round
    # trip for a page, not two. Through SQLAlchemy the column is NULL and the references are a second read.
    # And each row carries the subject's data key, which the page's prompts are opened with next: the key's own
    # read was a second round trip and a second reader connection per page (uncorrelated subqueries: PostgreSQL
    # looks the key up once per statement, not per row). Elsewhere those columns are NULL and the key is read itself.
    _page_columns = (*_table.c, null().label("reference_ids"), *_KEY_NULLS)
    _folded_columns = (
        *_table.c,
        func.coalesce(
            select(
                func.array_agg(aggregate_order_by(GenerationReferenceRow.upload_id, GenerationReferenceRow.position))
            )
            .where(GenerationReferenceRow.generation_id == _table.c.id)
            .scalar_subquery(),
            literal_column("CAST('{}' AS uuid[])"),
        ).label("reference_ids"),
        *_KEY_OF_SUBJECT,
    )
    # The same on an SQLite reader thread (``sqlite_reads``): the page, its references and the key in one statement.
    _sqlite_columns = (
        *_table.c,
        folded_upload_ids(
            func.coalesce(
                select(
                    func.group_concat(
                        func.printf(
                            "%d:%s", GenerationReferenceRow.position, func.hex(GenerationReferenceRow.upload_id)
                        )
                    )
                )
                .where(GenerationReferenceRow.generation_id == _table.c.id)
                .scalar_subquery(),
                "",
            )
        ).label("reference_ids"),
        *_KEY_OF_SUBJECT,
    )
    _of_subject = _table.c.subject_id == bindparam("subject_id")
    _after_cursor = or_(
        _table.c.created_at < bindparam("at"),
        and_(_table.c.created_at == bindparam("at"), _table.c.id < bindparam("last")),
    )
    _first_page = DriverRead(
        _newest_first(_page_columns, _of_subject),
        postgres=_newest_first(_folded_columns, _of_subject),
        sqlite=_newest_first(_sqlite_columns, _of_subject),
    )
    _next_page = DriverRead(
        _newest_first(_page_columns, _of_subject, _after_cursor),
        postgres=_newest_first(_folded_columns, _of_subject, _after_cursor),
        sqlite=_newest_first(_sqlite_columns, _of_subject, _after_cursor),
    )
    _references_of = DriverRead(
        select(GenerationReferenceRow.generation_id, GenerationReferenceRow.upload_id)
        .where(GenerationReferenceRow.generation_id.in_(bindparam("ids", expanding=True)))
        .order_by(GenerationReferenceRow.generation_id, GenerationReferenceRow.position),
        postgres=select(GenerationReferenceRow.generation_id, GenerationReferenceRow.upload_id)
        .where(GenerationReferenceRow.generation_id == any_(bindparam("ids")))
        .order_by(GenerationReferenceRow.generation_id, GenerationReferenceRow.position),
    )

    async def add(self, generation: Generation) -> None:
        _check(generation)
        values = {
            "id": generation.id,
            "subject_id": generation.subject_id,
            "kind": GenerationKind(generation.kind).value,
            "prompt_ciphertext": generation.prompt_ciphertext,
            "params": dict(generation.params),
            "provider": generation.provider,
            "created_at": generation.created_at,
            **_mutable(generation),
        }
        # no SAVEPOINT on this hot path (two round trips fewer): a failure here ends the submission anyway; the values
        # are parameters of the table's one INSERT (compiled once), not coerced into a new statement each time
        try:
            await self._session.execute(insert_into(GenerationRow), values)
            if generation.reference_upload_ids:
                links = [
                    {"generation_id": generation.id, "position": i, "upload_id": u}
                    for i, u in enumerate(generation.reference_upload_ids)
                ]
                await self._session.execute(insert_into(GenerationReferenceRow).values(links))
        except IntegrityError as error:
            if is_foreign_key_violation(error):
                raise NotFound("the record refers to something that does not exist") from None
            raise Conflict("this generation already exists") from None

    async def get(self, generation_id: UUID) -> Generation | None:
        row = (await self._session.execute(select(self._table).where(GenerationRow.id == generation_id))).first()
        if row is None:
            return None
        references = await self._references([generation_id])
        return self._record(row, references.get(generation_id, ()))

    async def update(self, generation: Generation) -> None:
        _check(generation)
        statement = update(GenerationRow).where(GenerationRow.id == generation.id).values(**_mutable(generation))
        if await self._write(statement, conflict="conflicting update") == 0:
            raise NotFound("no such generation")

    async def delete(self, generation_id: UUID) -> bool:
        # links first: SQLite only cascades with its foreign-key pragma on
        await self._execute_count(
            delete(GenerationReferenceRow).where(GenerationReferenceRow.generation_id == generation_id)
        )
        return await self._execute_count(delete(GenerationRow).where(GenerationRow.id == generation_id)) > 0

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: tuple[datetime, UUID] | None
    ) -> GenerationPage:
        params: dict[str, Any] = {"subject_id": subject_id, "limit": limit + 1}
        if before is None:
            rows = await self._first_page.rows(self._session, params)
        else:
            check_time("before", before[0])
            params["at"], params["last"] = before
            rows = await self._next_page.rows(self._session, params)
        more = len(rows) > limit
        rows = rows[:limit]
        if rows and rows[0].reference_ids is not None:  # folded into the page (on the driver, or a reader thread)
            references = {row.id: tuple(row.reference_ids) for row in rows}
            if self._session.info.get(READ_ONLY):  # the key as it stood when the page was read (as the account's)
                keep_key_read_along(self._session, subject_id, rows[0])
        else:
            references = await self._references([row.id for row in rows])
        items = [self._record(row, references.get(row.id, ())) for row in rows]
        return GenerationPage(items, (items[-1].created_at, items[-1].id) if more and items else None)

    async def count_referencing(self, upload_id: UUID) -> int:
        statement = select(func.count()).where(GenerationReferenceRow.upload_id == upload_id)
        return int((await self._session.execute(statement)).scalar_one())

    async def count_for_subject(self, subject_id: UUID) -> tuple[int, int]:
        mine = GenerationRow.subject_id == subject_id
        links = GenerationReferenceRow.__table__.join(self._table)
        counted = select(
            select(func.count()).select_from(self._table).where(mine).scalar_subquery(),
            select(func.count()).select_from(links).where(mine).scalar_subquery(),
        )
        generations, references = (await self._session.execute(counted)).one()
        return int(generations), int(references)

    async def delete_for_subject(self, subject_id: UUID) -> tuple[int, int]:
        mine = select(GenerationRow.id).where(GenerationRow.subject_id == subject_id)
        # links first: SQLite only cascades with its foreign-key pragma on
        links = await self._execute_count(
            delete(GenerationReferenceRow).where(GenerationReferenceRow.generation_id.in_(mine.scalar_subquery()))
        )
        return await self._execute_count(delete(GenerationRow).where(GenerationRow.subject_id == subject_id)), links

    async def unfinished(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[Generation]:
        statement = select(self._table).where(GenerationRow.status.not_in(_TERMINAL))
        statement = oldest_first(statement, GenerationRow.created_at, GenerationRow.id, after, limit)
        rows = list(await self._session.execute(statement))
        references = await self._references([row.id for row in rows])
        return [self._record(row, references.get(row.id, ())) for row in rows]

    async def unfinished_for_subject(self, subject_id: UUID, limit: int) -> list[Generation]:
        statement = (
            select(self._table)
            .where(GenerationRow.subject_id == subject_id, GenerationRow.status.not_in(_TERMINAL))
            .order_by(GenerationRow.created_at, GenerationRow.id)
            .limit(max(0, limit))
        )
        rows = list(await self._session.execute(statement))
        references = await self._references([row.id for row in rows])
        return [self._record(row, references.get(row.id, ())) for row in rows]

    @staticmethod
    def _past_retention(days: int, now: datetime) -> tuple[Any, ...]:
        return _past_owner_retention(GenerationRow.subject_id, GenerationRow.created_at, days, now)

    async def count_past_owner_retention(self, now: datetime) -> int:
        return await _count_past_owner_retention(self._session, self._table, self._past_retention, now)

    async def lock_past_owner_retention(self, now: datetime, limit: int) -> list[Generation]:
        rows = await _lock_past_owner_retention(self._session, self._table, self._past_retention, now, limit)
        references = await self._references([row.id for row in rows])
        return [self._record(row, references.get(row.id, ())) for row in rows]

    async def _references(self, generation_ids: list[UUID]) -> dict[UUID, tuple[UUID, ...]]:
        if not generation_ids:
            return {}
        found: dict[UUID, list[UUID]] = {}
        for generation_id, upload_id in await self._references_of.rows(self._session, {"ids": generation_ids}):
            found.setdefault(generation_id, []).append(upload_id)
        return {k: tuple(v) for k, v in found.items()}

    @staticmethod
    def _record(row: Any, references: tuple[UUID, ...]) -> Generation:
        # by position, in the dataclass's field order (a page maps twenty rows; keywords cost a third of each): the
        # contract suite reads every field back through get and the page alike. ``params`` is the dict the driver
        # decoded for this row alone, so it is not copied again.
        return Generation(
            row.id,
            row.subject_id,
            _KINDS[row.kind],
            _STATUSES[row.status],
            bytes(row.prompt_ciphertext),
            row.params,
            references,
            row.provider,
            row.provider_job_id,
            row.attempts,
            row.failure_reason,
            _outputs(row.outputs),
            row.created_at,
            row.updated_at,
        )


def _check(generation: Generation) -> None:
    check_text("provider", generation.provider)
    check_text("provider_job_id", generation.provider_job_id)
    check_text("failure_reason", generation.failure_reason)
    check_time("created_at", generation.created_at)
    check_time("updated_at", generation.updated_at)


def _mutable(generation: Generation) -> dict[str, Any]:
    return {
        "status": GenerationStatus(generation.status).value,
        "provider_job_id": generation.provider_job_id,
        "attempts": generation.attempts,
        "failure_reason": generation.failure_reason,
        "outputs": [
            {"object_key": o.object_key, "content_type": o.content_type, "bytes": o.bytes} for o in generation.outputs
        ],
        "updated_at": generation.updated_at,
    }


REPOSITORIES: SqlRepositories = {
    "uploads": SqlUploadRepository,
    "generations": SqlGenerationRepository,
}
"""The generation module's stores, by their name in the unit of work."""
