"""Celery tasks of the labels app: thin adapters over `labels.services`.

Registered when the app is ready (`LabelsConfig.ready`), so a process that enqueues by
name (`rma.queue.enqueue`) finds them, eager or not.
"""

from __future__ import annotations

from celery import shared_task

from .adapters import TransientLabelError
from .services import label_refund, label_refunds_to_sweep

REFUND_MAX_RETRIES = 8


def _backoff(retries: int) -> float:
    from rma.tasks import backoff_delay

    return backoff_delay(retries)


@shared_task(name="labels.refund_label", bind=True, acks_late=True, max_retries=REFUND_MAX_RETRIES)
def refund_label(self, *, label_id: int) -> None:
    """Ask the carrier to refund a voided label; retried while the carrier is unreachable."""
    try:
        label_refund(label_id=label_id)
    except TransientLabelError as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
        # Left PENDING: an agent sees it in the admin and can ask again.


@shared_task(name="labels.sweep_label_refunds", acks_late=True)
def sweep_label_refunds() -> int:
    """Enqueue again the carrier refunds that were never enqueued or gave up; how many."""
    from rma.queue import enqueue

    label_ids = label_refunds_to_sweep()
    for label_id in label_ids:
        enqueue("labels.refund_label", label_id=label_id)
    return len(label_ids)
