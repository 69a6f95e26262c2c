"""Helpers for driving the real pipeline: Redis state, worker processes, sent emails, polling."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from celery.signals import after_task_publish, task_postrun
from django.conf import settings
from django.db import connection

from labels.models import ReturnLabel
from returns_portal.celery import app as celery_app
from rma.models import LabelStatus, Notification, NotificationStatus, Rma, RmaEvent, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# A port nothing listens on: publishing there fails at once with "connection refused".
UNREACHABLE_BROKER_URL = "redis://127.0.0.1:1/0"
QUEUE = "celery"
# kombu's Redis ack emulation: messages delivered but not yet acknowledged.
UNACKED, UNACKED_INDEX, UNACKED_MUTEX = "unacked", "unacked_index", "unacked_mutex"
# The separator line the file email backend writes after each message.
FILE_BACKEND_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.05, what: str = ""):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


def purge_broker(client) -> None:
    """Forget every queued and unacknowledged message (of earlier tests) in the test database."""
    for key in client.scan_iter(f"{QUEUE}*"):
        client.delete(key)
    client.delete(UNACKED, UNACKED_INDEX, UNACKED_MUTEX)


class TaskLedger:
    """Messages this process published and tasks this process ran to the end.

    With an embedded worker (same process) every task message is counted both ways, so
    "all finished" is exact: a message being handed from the queue to the worker, in
    neither Redis structure for a moment, still counts as unfinished.
    """

    def __init__(self):
        self.published = 0
        self.finished = 0
        self._lock = threading.Lock()

    def _on_publish(self, **kwargs) -> None:
        with self._lock:
            self.published += 1

    def _on_finish(self, **kwargs) -> None:
        with self._lock:
            self.finished += 1

    def connect(self) -> TaskLedger:
        after_task_publish.connect(self._on_publish, weak=False)
        task_postrun.connect(self._on_finish, weak=False)
        return self

    def disconnect(self) -> None:
        after_task_publish.disconnect(self._on_publish)
        task_postrun.disconnect(self._on_finish)

    def all_finished(self) -> bool:
        with self._lock:
            return self.finished >= self.published


# Set while an embedded worker runs (conftest's start_embedded_worker).
embedded_ledger: TaskLedger | None = None


def unacked_tasks(client) -> list[str]:
    """The task names of the messages Redis holds as delivered but not acknowledged."""
    return [json.loads(value)[0]["headers"]["task"] for value in client.hgetall(UNACKED).values()]


def all_restorable(client, *, visibility_timeout: float) -> bool:
    """Redis holds unacknowledged messages, all delivered longer than `visibility_timeout`
    seconds ago: a worker starting now puts every one back in the queue (kombu scores
    each with its delivery time).

    Wait for this before starting the next worker: a worker restores such messages when
    it starts, and after that only every ~100 s, so one started too early idles.
    """
    ceiling = time.time() - visibility_timeout
    delivered = client.zrange(UNACKED_INDEX, 0, -1, withscores=True)
    return bool(delivered) and all(score <= ceiling for _, score in delivered)


def broker_idle(client) -> bool:
    """No message waits in the queue and none is delivered but unacknowledged.

    Tasks are acknowledged late and publish their follow-ups before they finish, so
    an idle broker means all work so far is done and no duplicate is still on its way.
    """
    return client.llen(QUEUE) == 0 and client.hlen(UNACKED) == 0


def wait_until_idle(client, *, timeout: float = 30.0) -> None:
    """Wait until every task message so far has been run and acknowledged.

    With an embedded worker that is exact (the ledger). A worker in another process is
    seen only through Redis, where a message being handed over is in neither structure
    for a moment: there the broker must look idle twice, a quarter second apart.
    """
    ledger = embedded_ledger
    if ledger is not None:
        wait_for(
            lambda: ledger.all_finished() and broker_idle(client),
            timeout=timeout,
            what="every task to be run and acknowledged",
        )
        return

    def idle_twice() -> bool:
        if not broker_idle(client):
            return False
        time.sleep(0.25)
        return broker_idle(client)

    wait_for(idle_twice, timeout=timeout, what="the broker to be idle")


@contextmanager
def broker_at(url: str):
    """Make the project's Celery app publish to another broker (fresh connection pools).

    `broker_write_url`, because the CELERY_BROKER_URL variable overrides `broker_url`.
    """
    previous = celery_app.conf.get("broker_write_url")
    _publish_to(url)
    try:
        yield
    finally:
        _publish_to(previous)


def _publish_to(url: str | None) -> None:
    # kombu keeps one pool per broker URL process-wide: pick it up again, never close it.
    celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def parse_email(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def emails_in(directory: Path) -> list[email.message.EmailMessage]:
    """Every message the file email backend wrote into `directory`."""
    messages = []
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_bytes().split(FILE_BACKEND_SEPARATOR):
            if chunk.strip():
                messages.append(parse_email(chunk.lstrip(b"\n")))
    return messages


def pdf_attachments(message: email.message.EmailMessage) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_content())
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def plain_text(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """`celery worker` in its own process, on the test database and broker; killable."""

    def __init__(self, name: str, *, log_dir: Path, env: dict[str, str], pool: str = "solo"):
        self.name = name
        self.pool = pool
        self.log_path = log_dir / f"worker-{name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "returns_portal.settings.local",
            "DEBUG": "false",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            # The fake services of these tests listen on 127.0.0.1.
            "ALLOW_PRIVATE_OUTBOUND": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "returns_portal",
            "worker",
            "--pool",
            self.pool,
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{self.name}@%h",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=log
            )
        return self

    def pool_processes(self) -> list[int]:
        """The pids of the prefork pool's child processes (Linux /proc)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in children.split()]

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no chance to acknowledge or restore anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def worker_processes(*, log_dir: Path, env: dict[str, str]):
    """`start(name, pool=..., env=...)` starts a `WorkerProcess` with `env` (which wins
    over the call's own); every worker started is stopped at the end and its log
    printed (pytest shows it when the test fails)."""
    workers = []
    fixed_env = env

    def start(name: str, *, pool: str = "solo", env: dict[str, str] | None = None):
        worker = WorkerProcess(name, log_dir=log_dir, pool=pool, env={**(env or {}), **fixed_env})
        workers.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
            print(f"--- worker {worker.name} ---\n{worker.log()}")


def file_email_env(directory: Path) -> dict[str, str]:
    """A worker process's settings to write its emails into `directory` (`emails_in`)."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(directory),
    }


def wait_until_restorable(client, *, visibility_timeout: float) -> None:
    """Wait until a worker starting now gets the killed worker's messages back."""
    wait_for(
        lambda: all_restorable(client, visibility_timeout=visibility_timeout),
        timeout=60,
        what="the visibility timeout to pass",
    )


def assert_killed_holding_the_claim(row, pending) -> None:
    """The worker died while the provider held its call, not after giving up on its
    timeout: the label or refund row is still `pending`, unfailed, and claimed."""
    row.refresh_from_db()
    assert (row.status, row.failure_reason) == (pending, "")
    assert row.claimed_until is not None


def record_deferred_checks(monkeypatch, module) -> list[tuple[str, dict]]:
    """Tasks that found another worker's claim and would look again when it lapses.

    Recorded instead of scheduled (`module.enqueue_later`): a live claim lasts well over
    half a minute, and the test delivers these looks itself once the first copy has
    finished.
    """
    deferred = []

    def record(task_name, countdown, **kwargs):
        deferred.append((task_name, kwargs))
        return True

    monkeypatch.setattr(module, "enqueue_later", record)
    return deferred


def request_return(order) -> Rma:
    """What the portal does when the shopper asks to return one unit of line 1."""
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(line_number=1, quantity=1, reason_code="TOO_SMALL")],
        resolution="REFUND",
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
    )
    return rma


def confirmation_sent(rma: Rma) -> bool:
    return Notification.objects.filter(
        rma=rma, kind="confirmation", status=NotificationStatus.SENT
    ).exists()


def assert_confirmed_once(rma: Rma, emails: list) -> email.message.EmailMessage:
    """Exactly one email went out, the confirmation of `rma`, its outbox row SENT once."""
    notification = Notification.objects.get(rma=rma, kind="confirmation")
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
    assert [message["To"] for message in emails] == [rma.order.customer_email]
    [message] = emails
    assert rma.rma_number in message["Subject"]
    assert message["Subject"] == notification.subject
    return message


def assert_issued_once(rma: Rma, emails: list) -> bytes:
    """One ISSUED label, one `rma.label_issued` event, one email carrying that label."""
    rma.refresh_from_db()
    assert (rma.status, rma.label_status) == (RmaStatus.AUTHORIZED, LabelStatus.ISSUED)
    assert list(ReturnLabel.objects.filter(rma=rma).values_list("status", flat=True)) == [
        LabelStatus.ISSUED
    ]
    assert RmaEvent.objects.filter(rma=rma, type="rma.label_issued").count() == 1
    message = assert_confirmed_once(rma, emails)
    [(filename, pdf)] = pdf_attachments(message)
    assert filename == f"return-label-{rma.rma_number}.pdf"
    with rma.label_file.open("rb") as stored:
        assert pdf == stored.read()
    return pdf
