"""Warm the label renderer when a process that renders labels starts.

The first label a process renders pays for importing WeasyPrint, Pango and their
dependencies and for loading the system's fonts (fontconfig's list, Pango's font map):
about a second here, several seconds on a machine whose font cache is cold. Paid
inside the first return request (eager tasks) or the first label task, that is a
shopper or a queue waiting. So each process that renders labels renders one
throwaway label as it starts:

- **Celery worker processes**: on `worker_process_init` (each prefork child, or the
  solo pool's process), in the thread that then runs the tasks, so the renderer it
  builds (fonts, parsed stylesheet) is the one the tasks reuse.
- **The web process when tasks run eagerly** (no broker, as `make run` runs):
  `returns_portal/wsgi.py` calls `warm_in_background()` as gunicorn or runserver loads
  the application. The label is rendered in a daemon thread, so the server answers
  at once; the process-wide part of the cost (imports, font loading) is done by the
  time a shopper asks for a label. With a broker, the web process renders no labels
  and does nothing here.

Only with `LABEL_SERVICE=builtin`. Management commands and tests neither load the WSGI
application nor start a worker process, so they pay nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from celery.signals import worker_process_init
from django.conf import settings

logger = logging.getLogger(__name__)

# How many warm-ups have completed in this process (for the tests and the log).
completed = 0
_lock = threading.Lock()


def renders_labels() -> bool:
    return settings.LABEL_SERVICE == "builtin"


def warm_up() -> bool:
    """Render one throwaway label in this thread; False when labels are not rendered here
    or the render failed (logged: a warm-up must never stop a process from starting)."""
    global completed
    if not renders_labels():
        return False
    started = time.perf_counter()
    try:
        from labels.adapters.base import LabelRequest
        from labels.adapters.builtin import BuiltinLabelService

        address = {"name": "Warm-up", "line1": "1 Main St", "city": "Reno", "state": "NV"}
        address |= {"postal_code": "89501", "country": "US"}
        BuiltinLabelService().issue(
            LabelRequest(
                rma_number="WARM-UPAB-CDEF",
                store_code="WARMUP",
                store_name="Warm-up",
                order_id="0",
                from_address=address,
                to_address=address,
                package={"weight": "1", "weightUnit": "lb"},
            )
        )
    except Exception:
        logger.exception("Label renderer warm-up failed; the first label will load the fonts")
        return False
    with _lock:
        completed += 1
    logger.info("Label renderer warmed up in %.2f s", time.perf_counter() - started)
    return True


def warm_in_background() -> threading.Thread | None:
    """In a web process whose tasks run eagerly: warm up in a daemon thread."""
    if not (renders_labels() and settings.CELERY_TASK_ALWAYS_EAGER):
        return None
    thread = threading.Thread(target=warm_up, name="label-warm-up", daemon=True)
    thread.start()
    return thread


@worker_process_init.connect(weak=False, dispatch_uid="labels.warmup")
def _on_worker_process_init(**kwargs) -> None:
    warm_up()
