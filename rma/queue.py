"""Enqueueing Celery tasks after commit, without ever failing the caller.

If the broker is unreachable the work stays recorded in its outbox row (notification,
label, webhook delivery) and the periodic sweeper enqueues it again later.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task_name: str, **kwargs) -> bool:
    """Send a task by its stable name; False (and a log line) if the broker refused it."""
    return enqueue_later(task_name, None, **kwargs)


def enqueue_later(task_name: str, countdown: float | None, **kwargs) -> bool:
    import rma.tasks  # noqa: F401  (registers the tasks of this process)

    try:
        current_app.tasks[task_name].apply_async(kwargs=kwargs, countdown=countdown)
    except Exception:
        logger.warning(
            "Could not enqueue %s %s; the sweeper will retry", task_name, kwargs, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task_name: str, **kwargs) -> None:
    transaction.on_commit(lambda: enqueue(task_name, **kwargs))
