"""What billing tells the buyer by mail: a delayed payment (a debit) failed and nothing was credited."""

from __future__ import annotations

from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.ports.billing import CheckoutRecord
from dreamina.ports.mail import MailMessage
from dreamina.ports.unit_of_work import UnitOfWork

PAYMENT_FAILED_BODY = (
    "Your bank did not complete the payment for {pack} credits ({amount} {currency}), so no credits were added "
    "and nothing was charged. You can buy the pack again at any time, with another payment method if you like.\n"
)


class PaymentNotices:
    """Queues billing mail in the caller's unit of work (the outbox), delivered after commit."""

    def __init__(self, *, mail: MailDelivery, keyrings: Keyrings) -> None:
        self._mail = mail
        self._keyrings = keyrings

    async def payment_failed(self, uow: UnitOfWork, checkout: CheckoutRecord) -> bool:
        """Queue the notice for ``checkout``'s buyer; False when there is no address to send it to (erased)."""
        account = await uow.accounts.get(checkout.subject_id)
        if account is None:
            return False
        try:
            address = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
        except (KeyDestroyed, ValueError):
            return False
        body = PAYMENT_FAILED_BODY.format(
            pack=checkout.credits, amount=f"{checkout.amount / 100:.2f}", currency=checkout.currency.upper()
        )
        message = MailMessage(
            to=address, subject="Your Dreamina payment did not go through", body=body, kind="payment_failed"
        )
        return await self._mail.queue(uow, message, subject_id=checkout.subject_id)

    async def flush(self) -> None:
        await self._mail.flush()
