"""The processes under test: gunicorn (and a throwaway Redis as the Celery broker)."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
# As the image runs it (Dockerfile, docker-compose.yml): 3 sync workers.
WORKERS = 3
APP = "returns_portal.wsgi:application"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, *, what: str, process: subprocess.Popen, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {DATA}")
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


def _stop(process: subprocess.Popen, *, whole_group: bool = True) -> None:
    """SIGTERM to the process group we started (or to its leader only, which then stops
    its children itself), then SIGKILL to the group if it lingers."""
    if process.poll() is not None:
        return
    if whole_group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def celery_worker(*, environment: dict[str, str], concurrency: int = 1):
    """A Celery worker (prefork) of the project on the broker in `environment`."""
    log = (DATA / "celery.log").open("w")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "returns_portal",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, **environment},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(1)
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}; see {DATA}")
        yield process
    finally:
        # Celery's warm shutdown: the parent stops its pool; tasks not acknowledged stay
        # queued (late acknowledgement).
        _stop(process, whole_group=False)
        log.close()


@contextlib.contextmanager
def redis_broker():
    """A private Redis on a free port, or None when redis-server is not installed."""
    executable = shutil.which("redis-server")
    if executable is None:
        yield None
        return
    port = free_port()
    log = (DATA / "redis.log").open("w")
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(DATA),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _accepts(port), what="redis-server", process=process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)
        log.close()


@contextlib.contextmanager
def gunicorn(
    *,
    name: str,
    environment: dict[str, str],
    ready_path: str,
    app: str = APP,
    workers: int = WORKERS,
    ready_headers: dict[str, str] | None = None,
):
    """gunicorn serving `app` with `workers` sync workers on a free port; yields the port."""
    port = free_port()
    log = (DATA / f"gunicorn-{name}.log").open("w")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            app,
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
        ],
        env={**os.environ, **environment},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def ready() -> bool:
        if not _accepts(port):
            return False
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", ready_path, headers=ready_headers or {})
            return connection.getresponse().status == 200
        finally:
            connection.close()

    try:
        _wait_for(ready, what=f"gunicorn ({name})", process=process)
        yield port
    finally:
        # To the master only: it stops its workers gracefully.
        _stop(process, whole_group=False)
        log.close()
