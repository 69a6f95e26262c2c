"""Celery tasks of the payments app: thin adapters over `payments.services`.

Idempotent (the refund's status and claim make a redelivery a no-op), acknowledged
late, retrying only transient provider errors with backoff and jitter.
"""

from __future__ import annotations

import datetime as dt
import random

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .adapters import PermanentRefundError, TransientRefundError
from .models import Refund, RefundStatus
from .services import _enqueue, refund_claim_lapses_in, refund_execute, refund_fail

REFUND_MAX_RETRIES = 8
# Seconds after another worker's claim lapses before a waiting task looks again.
CLAIM_RECHECK_MARGIN = 1.0


def backoff_delay(retries: int, *, base: float = 10.0, cap: float = 30 * 60) -> float:
    """Exponential backoff with full jitter (seconds) for the n-th retry."""
    return random.uniform(base, min(cap, base * 2**retries))  # noqa: S311 (not cryptographic)


@shared_task(
    name="payments.execute_refund", bind=True, acks_late=True, max_retries=REFUND_MAX_RETRIES
)
def execute_refund(self, *, refund_id: int) -> None:
    try:
        refund_execute(refund_id=refund_id)
    except TransientRefundError as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=backoff_delay(self.request.retries)) from error
        refund_fail(
            refund_id=refund_id, reason=f"Refund service unavailable after retries: {error}"
        )
    except PermanentRefundError as error:
        refund_fail(refund_id=refund_id, reason=str(error))
    else:
        # Another worker holds the refund: a duplicate of a live task, or the redelivery
        # of a task whose worker died mid-call. Look again when the claim lapses.
        lapses_in = refund_claim_lapses_in(refund_id=refund_id)
        if lapses_in is not None and not self.request.is_eager:
            _enqueue(
                "payments.execute_refund", lapses_in + CLAIM_RECHECK_MARGIN, refund_id=refund_id
            )


@shared_task(name="payments.sweep_refunds", acks_late=True)
def sweep_refunds() -> int:
    """Re-enqueue PENDING refunds that were committed but never enqueued, or got stuck."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.SWEEPER_GRACE_SECONDS)
    refund_ids = Refund.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        status=RefundStatus.PENDING,
        updated_at__lt=stale,
    ).values_list("pk", flat=True)
    return sum(_enqueue("payments.execute_refund", refund_id=pk) for pk in refund_ids)
