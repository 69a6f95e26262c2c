"""The label renderer is warmed when a process that renders labels starts (labels/warmup.py)."""

import os
import subprocess
import sys
from pathlib import Path

from celery.signals import worker_process_init
from django.test import override_settings

from labels import warmup
from labels.adapters import builtin

ROOT = Path(__file__).resolve().parents[2]


def forget_renderer():
    if hasattr(builtin._local, "renderer"):
        del builtin._local.renderer


def test_a_worker_process_renders_a_label_as_it_starts_and_keeps_the_renderer():
    forget_renderer()
    before = warmup.completed

    worker_process_init.send(sender=None)

    assert warmup.completed == before + 1
    # Built in the thread that then runs the tasks: their labels reuse it.
    assert builtin._local.renderer is not None


@override_settings(LABEL_SERVICE="none")
def test_no_warm_up_where_labels_are_not_rendered_by_us():
    forget_renderer()
    before = warmup.completed

    worker_process_init.send(sender=None)

    assert warmup.completed == before
    assert getattr(builtin._local, "renderer", None) is None


def test_an_eager_web_process_warms_up_in_the_background():
    before = warmup.completed

    thread = warmup.warm_in_background()

    assert thread is not None and thread.daemon
    thread.join(timeout=120)
    assert warmup.completed == before + 1


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_web_process_with_a_broker_leaves_labels_to_the_workers():
    assert warmup.warm_in_background() is None


def test_a_failed_warm_up_is_logged_and_does_not_raise(caplog):
    before = warmup.completed
    with override_settings(TEMPLATES=[]):  # the label template cannot be found
        assert warmup.warm_up() is False
    assert warmup.completed == before
    assert "warm-up failed" in caplog.text


def test_loading_the_wsgi_application_starts_the_warm_up():
    """In a process of its own, as gunicorn or runserver loads it (tasks eager, as with
    no broker); a management command does not load it and does not warm up."""
    code = (
        "import returns_portal.wsgi as wsgi; from labels import warmup; "
        "print(warmup.completed); wsgi.warming.join(120); print(warmup.completed)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "returns_portal.settings.test"}
    result = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert result.stdout.split()[-1] == "1", result.stdout + result.stderr
