"""Writes of the payments app: store credit (issue, redeem) and refunds (request, execute).

Refunds follow the claim/record pattern of labels: the refund row is written in the
resolve transaction and its task enqueued after commit; a worker claims the PENDING row
for a limited time in one short transaction, calls the provider with no transaction
open, and records the result in a second short one. A duplicated task finds the claim
and leaves it alone; a dead worker's claim lapses and the retry calls the provider again
with the same idempotency key, which the provider answers with the refund it already
made. So one RMA gets at most one refund, whatever the deliveries.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rma.models import Rma, Store
from rma.numbers import ALPHABET
from rma.policy import StorePolicy
from rma.queue import enqueue, enqueue_later
from rma.services.actors import Actor
from rma.services.events import record_event

from . import money
from .adapters import (
    PermanentRefundError,
    RefundRequest,
    RefundServiceError,
    get_refund_service,
)
from .models import CreditEntryKind, Refund, RefundStatus, StoreCredit, StoreCreditEntry

logger = logging.getLogger(__name__)

EVENT_REFUNDED = "rma.refunded"
EVENT_REFUND_FAILED = "rma.refund_failed"
REASON_LENGTH = Refund._meta.get_field("failure_reason").max_length
CODE_LENGTH = StoreCredit._meta.get_field("code").max_length
REFERENCE_LENGTH = StoreCreditEntry._meta.get_field("reference").max_length


class PaymentError(Exception):
    """A refused money operation; `status` is the HTTP status an API answers with."""

    def __init__(self, message: str, *, status: int = 400, field: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


# --- Store credit -----------------------------------------------------------------------


def new_store_credit_code() -> str:
    """A readable, random store credit code such as `SC-7KQM-X2PA-RT4H` (60 bits)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return "SC-" + "-".join(body[i : i + 4] for i in range(0, 12, 4))


def store_credit_issue(
    *,
    store: Store,
    amount: Decimal,
    rma: Rma | None = None,
    code: str = "",
    now: dt.datetime | None = None,
) -> StoreCredit:
    """Issue a store credit of `amount` in the store's currency, expiring after the policy's
    `store_credit_expiry_days`; with the agent's `code` or a generated one.

    Raises `PaymentError` for a code already in use or a negative amount. Call it inside
    the caller's transaction (the resolve service does).
    """
    now = now or timezone.now()
    currency = store.currency
    amount = money.quantize(amount, currency)
    if amount < 0:
        raise PaymentError("A store credit cannot be negative.", field="amount")
    code = code.strip()
    if len(code) > CODE_LENGTH:
        raise PaymentError(
            f"The store credit code can have at most {CODE_LENGTH} characters.", field="code"
        )
    if code and StoreCredit.objects.filter(code=code).exists():
        raise PaymentError(f"The store credit code {code} is already in use.", field="code")
    while not code:
        candidate = new_store_credit_code()
        if not StoreCredit.objects.filter(code=candidate).exists():
            code = candidate
    expires_at = now + dt.timedelta(days=StorePolicy.of(store).store_credit_expiry_days)
    try:
        with transaction.atomic():
            credit = StoreCredit.objects.create(
                store=store,
                code=code,
                currency=currency,
                amount=amount,
                balance=amount,
                expires_at=expires_at,
                rma=rma,
            )
    except IntegrityError:
        # Another transaction took the same code between the check and the insert.
        raise PaymentError(
            f"The store credit code {code} is already in use.", field="code"
        ) from None
    StoreCreditEntry.objects.create(
        credit=credit, kind=CreditEntryKind.ISSUE, amount=amount, balance_after=amount, rma=rma
    )
    return credit


def store_credit_is_expired(credit: StoreCredit, now: dt.datetime | None = None) -> bool:
    return credit.expires_at <= (now or timezone.now())


@dataclass(frozen=True)
class Redemption:
    credit: StoreCredit
    entry: StoreCreditEntry
    # True when the reference had been redeemed before: nothing was spent this time.
    replayed: bool


@transaction.atomic
def store_credit_redeem(
    *, store: Store, code: str, amount, reference: str, now: dt.datetime | None = None
) -> Redemption:
    """Spend `amount` of a store credit for the storefront's `reference`.

    Idempotent per reference: the same reference again returns the first redemption and
    spends nothing (a different amount under it is refused, 409). The credit's row is
    locked while it is read and written, so concurrent redemptions are serialised and
    the balance never goes below zero (422 when it would); an expired credit is refused
    (422); an unknown code is 404. Raises `PaymentError` carrying the status.
    """
    now = now or timezone.now()
    if not isinstance(reference, str) or not reference.strip():
        raise PaymentError(
            "reference is required: the storefront's id of this spending.", field="reference"
        )
    reference = reference.strip()
    if len(reference) > REFERENCE_LENGTH:
        raise PaymentError(
            f"reference can have at most {REFERENCE_LENGTH} characters.", field="reference"
        )
    credit = StoreCredit.objects.select_for_update().filter(store=store, code=code).first()
    if credit is None:
        raise PaymentError(f"store credit {code} not found", status=404)
    try:
        amount = money.parse_amount(amount, credit.currency)
    except money.MoneyError as error:
        raise PaymentError(f"amount: {error}", field="amount") from None
    if amount <= 0:
        raise PaymentError("amount must be above zero.", field="amount")
    previous = credit.entries.filter(reference=reference).first()
    if previous is not None:
        if -previous.amount != amount:
            raise PaymentError(
                f"reference {reference} was already used for "
                f"{money.as_string(-previous.amount, credit.currency)}, not "
                f"{money.as_string(amount, credit.currency)}",
                status=409,
                field="reference",
            )
        return Redemption(credit=credit, entry=previous, replayed=True)
    if store_credit_is_expired(credit, now):
        raise PaymentError(
            f"store credit {code} expired on {credit.expires_at:%Y-%m-%d}", status=422
        )
    if amount > credit.balance:
        raise PaymentError(
            f"amount {money.as_string(amount, credit.currency)} is more than the balance "
            f"{money.as_string(credit.balance, credit.currency)}",
            status=422,
            field="amount",
        )
    credit.balance -= amount
    credit.save(update_fields=["balance", "updated_at"])
    entry = StoreCreditEntry.objects.create(
        credit=credit,
        kind=CreditEntryKind.REDEEM,
        amount=-amount,
        balance_after=credit.balance,
        reference=reference,
    )
    return Redemption(credit=credit, entry=entry, replayed=False)


# --- Refunds ----------------------------------------------------------------------------


def refund_idempotency_key(rma: Rma) -> str:
    """One key per RMA: every attempt of its refund is the same request to the provider."""
    return f"rma-refund-{rma.store.code}-{rma.rma_number}"


def refund_request(*, rma: Rma, amount: Decimal) -> Refund | None:
    """Record the refund of a resolved RMA and enqueue it after commit, when the refund
    service executes refunds (`REFUND_SERVICE=stripe`); None otherwise (the `rma.resolved`
    webhook tells the store) or when nothing is to be refunded.

    An order paid otherwise than the service can refund gets a FAILED refund at once, so
    it shows in the agents' "refund failed" queue. Call inside the resolve transaction.
    """
    service = get_refund_service()
    currency = rma.store.currency
    amount = money.quantize(amount, currency)
    if not service.executes_refunds or amount <= 0:
        return None
    order = rma.order
    refund = Refund.objects.create(
        rma=rma,
        service=service.name,
        amount=amount,
        currency=currency,
        payment_intent=order.payment_intent,
        idempotency_key=refund_idempotency_key(rma),
    )
    if order.payment_provider != service.provider or not order.payment_intent:
        _mark_failed(
            refund,
            f"The order was not paid through {service.name} (no {service.name} payment in its "
            "import data): refund it in the store's own systems.",
        )
        return refund
    transaction.on_commit(lambda: _enqueue("payments.execute_refund", refund_id=refund.pk))
    return refund


def _enqueue(task_name: str, countdown: float | None = None, **kwargs) -> bool:
    import payments.tasks  # noqa: F401  (registers the tasks of this process)

    if countdown is None:
        return enqueue(task_name, **kwargs)
    return enqueue_later(task_name, countdown, **kwargs)


def claim_duration() -> dt.timedelta:
    """How long a worker may hold a refund while the provider works on it: longer than the
    slowest call (connect and read timeouts), so a live worker never loses its claim."""
    return dt.timedelta(seconds=2 * settings.STRIPE_TIMEOUT + 30)


def refund_execute(*, refund_id: int) -> Refund | None:
    """Make the PENDING refund through the provider; idempotent.

    Returns the SUCCEEDED refund, or None when there is nothing to do (already settled,
    or another worker holds the claim). Raises `TransientRefundError` (retry later) or
    `PermanentRefundError` (then call `refund_fail`); either way the refund stays
    PENDING and unclaimed. Not atomic as a whole: no transaction is open during the call.
    """
    service = get_refund_service()
    claimed = _refund_claim(refund_id=refund_id)
    if claimed is None or claimed.status != RefundStatus.PENDING:
        return claimed if claimed and claimed.status == RefundStatus.SUCCEEDED else None
    request = RefundRequest(
        rma_number=claimed.rma.rma_number,
        store_code=claimed.rma.store.code,
        order_id=claimed.rma.order.order_id,
        payment_intent=claimed.payment_intent,
        amount_minor=money.to_minor(claimed.amount, claimed.currency),
        currency=claimed.currency,
        idempotency_key=claimed.idempotency_key,
    )
    try:
        issued = service.refund(request)
    except RefundServiceError as error:
        _refund_release(refund_id=refund_id, reason=str(error))
        raise
    except Exception as error:
        logger.exception("Refund service %s failed for refund %s", service.name, refund_id)
        _refund_release(refund_id=refund_id, reason=repr(error))
        raise PermanentRefundError(f"Unexpected refund service error: {error!r}") from error
    return _refund_record(
        refund_id=refund_id,
        provider_refund_id=issued.provider_refund_id,
        provider_status=issued.provider_status,
    )


@transaction.atomic
def _refund_claim(*, refund_id: int) -> Refund | None:
    """Lock the refund; claim it when PENDING and unclaimed (returns it), else say why not."""
    refund = (
        Refund.objects.select_for_update(of=("self",))
        .select_related("rma__store", "rma__order")
        .filter(pk=refund_id)
        .first()
    )
    if refund is None or refund.status != RefundStatus.PENDING:
        return refund
    now = timezone.now()
    if refund.claimed_until and refund.claimed_until > now:
        return None
    refund.attempts += 1
    refund.claimed_until = now + claim_duration()
    refund.save(update_fields=["attempts", "claimed_until", "updated_at"])
    return refund


@transaction.atomic
def _refund_release(*, refund_id: int, reason: str) -> None:
    Refund.objects.filter(pk=refund_id, status=RefundStatus.PENDING).update(
        claimed_until=None, failure_reason=reason[:REASON_LENGTH], updated_at=timezone.now()
    )


@transaction.atomic
def _refund_record(*, refund_id: int, provider_refund_id: str, provider_status: str) -> Refund:
    refund = Refund.objects.select_for_update().select_related("rma").get(pk=refund_id)
    if refund.status == RefundStatus.SUCCEEDED:
        return refund
    # Even a refund an agent marked FAILED meanwhile is recorded: the money did move.
    refund.status = RefundStatus.SUCCEEDED
    refund.provider_refund_id = provider_refund_id[:255]
    refund.provider_status = provider_status[:32]
    refund.succeeded_at = timezone.now()
    refund.claimed_until = None
    refund.failure_reason = ""
    refund.save()
    record_event(
        rma=refund.rma,
        type=EVENT_REFUNDED,
        actor=Actor.system(),
        data={
            "refundId": refund.pk,
            "service": refund.service,
            "amount": money.as_string(refund.amount, refund.currency),
            "currency": refund.currency,
            "providerRefundId": refund.provider_refund_id,
        },
    )
    return refund


@transaction.atomic
def refund_fail(*, refund_id: int, reason: str) -> Refund | None:
    """Mark a PENDING refund FAILED (after the last retry, or at once on a permanent
    error); it joins the agents' "refund failed" queue. A repeated call changes nothing."""
    refund = Refund.objects.select_for_update().select_related("rma").filter(pk=refund_id).first()
    if refund is None or refund.status != RefundStatus.PENDING:
        return None
    _mark_failed(refund, reason)
    return refund


def _mark_failed(refund: Refund, reason: str) -> None:
    refund.status = RefundStatus.FAILED
    refund.failure_reason = reason[:REASON_LENGTH]
    refund.claimed_until = None
    refund.save(update_fields=["status", "failure_reason", "claimed_until", "updated_at"])
    record_event(
        rma=refund.rma,
        type=EVENT_REFUND_FAILED,
        actor=Actor.system(),
        data={"refundId": refund.pk, "reason": refund.failure_reason},
    )


@transaction.atomic
def refund_retry(*, refund: Refund, actor: Actor) -> Refund:
    """An agent sends a FAILED refund again (after fixing the cause): PENDING, enqueued."""
    refund = Refund.objects.select_for_update().select_related("rma").get(pk=refund.pk)
    if refund.status != RefundStatus.FAILED:
        raise PaymentError(f"Only a failed refund can be retried (this one is {refund.status}).")
    refund.status = RefundStatus.PENDING
    refund.claimed_until = None
    refund.save(update_fields=["status", "claimed_until", "updated_at"])
    record_event(
        rma=refund.rma, type="rma.refund_retried", actor=actor, data={"refundId": refund.pk}
    )
    transaction.on_commit(lambda: _enqueue("payments.execute_refund", refund_id=refund.pk))
    return refund


def refund_claim_lapses_in(*, refund_id: int) -> float | None:
    """Seconds until a worker's live claim on the PENDING refund lapses; None if none."""
    now = timezone.now()
    claimed_until = (
        Refund.objects.filter(pk=refund_id, status=RefundStatus.PENDING, claimed_until__gt=now)
        .values_list("claimed_until", flat=True)
        .first()
    )
    return None if claimed_until is None else (claimed_until - now).total_seconds()
