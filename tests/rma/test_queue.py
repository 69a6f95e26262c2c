"""Tasks are published after commit: at once, or when the caller that held them says."""

import pytest
from django.db import transaction

from rma import queue
from rma.queue import enqueue_on_commit, held_until_published, publish


@pytest.fixture
def sent(monkeypatch):
    """The tasks published, instead of a broker."""
    published = []
    monkeypatch.setattr(queue, "enqueue", lambda name, **kwargs: published.append((name, kwargs)))
    return published


@pytest.mark.django_db
def test_a_task_is_published_at_commit(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("rma.issue_label", rma_id=7)
        assert sent == []

    assert sent == [("rma.issue_label", {"rma_id": 7})]


@pytest.mark.django_db
def test_held_tasks_are_published_when_the_holder_publishes_them(
    sent, django_capture_on_commit_callbacks
):
    with held_until_published() as tasks:
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit("rma.issue_label", rma_id=7)
        assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("rma.send_notification", notification_id=3)  # not held any more

    assert tasks == [("rma.issue_label", {"rma_id": 7})]
    assert sent == [("rma.send_notification", {"notification_id": 3})]
    publish(tasks)
    assert sent[1:] == [("rma.issue_label", {"rma_id": 7})]


@pytest.mark.django_db
def test_a_task_rolled_back_is_neither_held_nor_published(sent):
    with held_until_published() as tasks, pytest.raises(ZeroDivisionError), transaction.atomic():
        enqueue_on_commit("rma.issue_label", rma_id=7)
        raise ZeroDivisionError

    assert tasks == [] and sent == []
