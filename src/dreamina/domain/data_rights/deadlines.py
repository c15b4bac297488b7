"""The deadline monitor of privacy requests (G9): run hourly by the data-rights worker, it flags open requests near
or past their legal due date so the staff queue can sort and filter by it."""

from __future__ import annotations

from dreamina.domain.data_rights import clock as legal_clock
from dreamina.domain.data_rights.records import SYSTEM, RequestRecords
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import OPEN_STATUSES
from dreamina.ports.unit_of_work import UnitOfWorkFactory

MAX_CHECKED = 10_000  # open requests due within the near-due window, per pass


class DeadlineMonitor:
    """Flags each open request once per change of its flag (``near_due``, then ``overdue``), with a history entry."""

    def __init__(self, *, uow: UnitOfWorkFactory, records: RequestRecords, clock: Clock) -> None:
        self._uow = uow
        self._records = records
        self._clock = clock

    async def flag_deadlines(self) -> dict[str, int]:
        """One pass; returns how many requests became near due and overdue."""
        now = self._clock.now()
        counts = {"near_due": 0, "overdue": 0}
        async with self._uow() as uow:
            candidates = await uow.privacy_requests.list_open(
                statuses=OPEN_STATUSES, due_before=now + legal_clock.NEAR_DUE, limit=MAX_CHECKED
            )
            for request in candidates:
                if request.paused_since is not None:
                    continue  # the clock is stopped
                flag = legal_clock.deadline_flag(request.due_at, now)
                if flag is None or flag == request.flag:
                    continue
                request.flag = flag
                request.move_to(request.status, now)
                await self._records.changed(uow, request, SYSTEM, f"deadline {flag}", now)
                counts[flag] += 1
            await uow.commit()
        return counts
