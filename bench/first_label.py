"""The first label a fresh process renders, with and without the warm-up (labels/warmup.py).

Each case is a new Python process (5 of each, median): Django set up, then one label
rendered the way a request or a task renders it, timed. Without the warm-up that first
label pays for importing WeasyPrint and loading the fonts; with it, the process paid
that at start (the "warm-up" column) and the label costs what any later one does.

- worker process: `worker_process_init` warms in the thread that then runs the tasks;
- eager web process: the warm-up runs in a background thread, the label is rendered in
  another (the request's) thread, which builds its own stylesheet and font configuration.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5

SETUP = """
import os, sys, threading, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "returns_portal.settings.test"
import django
django.setup()
from labels import warmup
from labels.adapters.builtin import BuiltinLabelService
from tests.labels.samples import label_request  # imported before timing: not the label's cost
def label():
    started = time.perf_counter()
    BuiltinLabelService().issue(label_request())
    return time.perf_counter() - started
warm = 0.0
"""
CASES = {
    "no warm-up (before)": "print(warm, label())",
    "worker process (worker_process_init)": (
        "from celery.signals import worker_process_init\n"
        "started = time.perf_counter(); worker_process_init.send(sender=None)\n"
        "warm = time.perf_counter() - started\n"
        "print(warm, label())"
    ),
    "eager web process (background thread)": (
        "started = time.perf_counter(); warmup.warm_in_background().join()\n"
        "warm = time.perf_counter() - started\n"
        "result = []\n"
        "thread = threading.Thread(target=lambda: result.append(label())); thread.start()\n"
        "thread.join(); print(warm, result[0])"
    ),
}


def measure() -> dict[str, tuple[float, float]]:
    """Case -> (median warm-up seconds at start, median first-label seconds)."""
    figures = {}
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "returns_portal.settings.test"}
    for name, code in CASES.items():
        warm, first = [], []
        for _ in range(RUNS):
            completed = subprocess.run(
                [sys.executable, "-c", SETUP.format(root=str(ROOT)) + code],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            values = completed.stdout.split()[-2:]
            warm.append(float(values[0]))
            first.append(float(values[1]))
        figures[name] = (statistics.median(warm), statistics.median(first))
    return figures


if __name__ == "__main__":
    for name, (warm, first) in measure().items():
        print(f"{name:40s} warm-up {warm:6.2f} s, first label {first * 1000:7.1f} ms")
