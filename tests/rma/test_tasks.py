"""The Celery tasks' delivery options: what makes them at-least-once.

A label, an email or a webhook must not be lost when a worker dies mid-task: the
message is acknowledged only after the task returns (`acks_late`), a pool process killed
under it gives it back to the queue (`reject_on_worker_lost`), and services enqueue it by
a stable name that must resolve to the task in every worker. These are the options a
worker reads from the registered task, so they are checked there.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

import rma.tasks
from returns_portal.celery import app
from rma.tasks import backoff_delay

AT_LEAST_ONCE = {
    "rma.issue_label": rma.tasks.issue_label,
    "rma.send_notification": rma.tasks.send_notification,
    "rma.deliver_webhook": rma.tasks.deliver_webhook,
}
ROOT = Path(settings.BASE_DIR)
ENQUEUED_BY_NAME = re.compile(r"""enqueue(?:_later|_on_commit)?\(\s*["']([\w.]+)["']""")


@pytest.mark.parametrize("name", sorted(AT_LEAST_ONCE))
def test_at_least_once_tasks_are_acknowledged_late_and_requeued_if_their_worker_dies(name):
    task = app.tasks[name]
    assert task is AT_LEAST_ONCE[name]._get_current_object(), "the name resolves to this task"
    assert task.name == name
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_every_task_name_the_code_enqueues_is_registered():
    """Services enqueue by name (no imports of tasks): a renamed task would be dropped."""
    app.loader.import_default_modules()  # every installed app's tasks, as a worker loads them
    sources = [path for path in ROOT.rglob("*.py") if not path.is_relative_to(ROOT / ".venv")]
    names = {name for path in sources for name in ENQUEUED_BY_NAME.findall(path.read_text())}
    assert set(AT_LEAST_ONCE) <= names
    assert names <= set(app.tasks), names - set(app.tasks)


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"rma.sweep", "rma.expire_overdue", "rma.purge_api_transactions"} <= scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


def test_a_retry_is_never_redelivered_as_a_lost_task_while_it_waits():
    """Redis hands an unacknowledged message to another worker after the visibility
    timeout; a retry waiting longer than that would run twice."""
    visibility_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest_retry_delay = max(backoff_delay(retries) for retries in range(30))
    assert longest_retry_delay < visibility_timeout
