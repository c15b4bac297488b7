"""Wiring unit of the support module: tickets from the contact form (policy section 11) and the staff queues."""

from __future__ import annotations

from dataclasses import dataclass

from dreamina.adapters.memory import support as memory_support
from dreamina.adapters.sql import repositories_support
from dreamina.domain.support.address_requests import AddressRequests, AnonymousTicketIndex
from dreamina.domain.support.data_map import SUPPORT_DATA
from dreamina.domain.support.personal_data import SupportPersonalData
from dreamina.domain.support.retention import support_retention_tasks
from dreamina.domain.support.tickets import SupportTickets
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="support", data=SUPPORT_DATA, sql=repositories_support.REPOSITORIES, memory=(memory_support.STORES,)
)


@dataclass(frozen=True, slots=True)
class SupportModule:
    """The support module's use cases."""

    tickets: SupportTickets
    address_requests: AddressRequests  # access and erasure of anonymous tickets by a verified address
    contributes: Contributions


def wire_support(infra: Infrastructure) -> SupportModule:
    tickets = SupportTickets(
        uow=infra.uow,
        vault=infra.vault,
        keyrings=infra.keyrings,
        mail=infra.mail,
        clock=infra.clock,
        jurisdictions=infra.jurisdictions,
    )
    address_requests = AddressRequests(
        uow=infra.uow,
        vault=infra.vault,
        keyrings=infra.keyrings,
        mail=infra.mail,
        checks=infra.secret_checks,
        clock=infra.clock,
        link_base=infra.settings.resolved_public_base_url,
    )
    index = AnonymousTicketIndex(uow=infra.uow, vault=infra.vault, keyrings=infra.keyrings)

    async def index_anonymous_tickets() -> None:
        await index.backfill()  # tickets stored before migration 0020: the migration holds no key to do it

    return SupportModule(
        tickets=tickets,
        address_requests=address_requests,
        contributes=Contributions(
            holders=(SupportPersonalData(uow=infra.uow, keyrings=infra.keyrings),),
            retention=tuple(support_retention_tasks(infra.uow)),
            monitors=(tickets.flag_deadlines,),  # privacy tickets run on the same legal clock as requests
            starters=(index_anonymous_tickets,),
        ),
    )
