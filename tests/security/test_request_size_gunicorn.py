"""Oversized bodies against the real server: gunicorn on a free loopback port, raw sockets.

The client declares or streams more than the limit; the answer is a 413 and nothing is
left in the server's temporary or media directories. For a declared length, the client
sends no body at all before reading the answer: a server that waited for the body (or
stored it) would never answer.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 64 * 1024
API_LIMIT = 16 * 1024
ANSWER_TIMEOUT = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("gunicorn")
    temp, media, worker_temp = base / "tmp", base / "media", base / "worker"
    for directory in (temp, media, worker_temp):
        directory.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "returns_portal.settings.test",
        "MAX_REQUEST_BYTES": str(LIMIT),
        "API_MAX_BODY_BYTES": str(API_LIMIT),
        "TMPDIR": str(temp),
        "MEDIA_ROOT": str(media),
        # No label renderer warm-up (labels/warmup.py): its font loading runs the C
        # compiler in TMPDIR, whose files would be taken for an upload's.
        "LABEL_SERVICE": "none",
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "returns_portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-tmp-dir",
            str(worker_temp),
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Connections queue in the listen backlog once gunicorn says it listens.
    for line in process.stderr:
        if "Listening at" in line:
            break
    else:
        pytest.fail("gunicorn did not start")
    # Keep reading its log so a full pipe never blocks it.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    yield {"port": port, "temp": temp, "media": media}
    process.terminate()
    process.wait(timeout=30)


def exchange(port: int, head: bytes, chunks=()) -> tuple[int, dict, bytes]:
    """Send a request head (and body chunks), then read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as connection:
        connection.sendall(head)
        for chunk in chunks:
            connection.sendall(chunk)
        received = b""
        while block := connection.recv(65536):
            received += block
    head_part, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head_part.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def request_head(method: str, path: str, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(body: bytes, size: int = 8192):
    for start in range(0, len(body), size):
        part = body[start : start + size]
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def multipart(size: int) -> tuple[str, bytes]:
    boundary = "----returns-test-boundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="line-1-photo"; filename="huge.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff" * size
    body += f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def left_on_disk(server) -> list[Path]:
    return [path for root in (server["temp"], server["media"]) for path in root.rglob("*")]


def test_a_declared_200_mb_upload_is_refused_before_a_byte_of_it_is_read(server):
    content_type, _ = multipart(0)
    head = request_head(
        "POST", "/", {"Content-Type": content_type, "Content-Length": str(200 * 1024 * 1024)}
    )
    status, headers, body = exchange(server["port"], head)  # no body sent at all
    assert status == 413
    assert headers["content-type"].startswith("text/html")
    assert b"That was too much to send at once" in body
    assert left_on_disk(server) == []


def test_a_chunked_upload_past_the_limit_is_refused_as_it_streams(server):
    content_type, body = multipart(4 * LIMIT)
    head = request_head("POST", "/", {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
    status, _, page = exchange(server["port"], head, chunked(body))
    assert status == 413
    assert b"That was too much to send at once" in page
    assert left_on_disk(server) == []


def test_the_api_answers_an_oversized_chunked_body_with_its_fault(server):
    head = request_head(
        "POST",
        "/v1.0/seller/TMSUS/return-order/create/1/generateRMA.json",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    status, headers, body = exchange(server["port"], head, chunked(b" " * (2 * API_LIMIT)))
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    fault = json.loads(body)["fault"]
    assert fault["code"] == "RMA 1001"
    assert f"larger than {API_LIMIT} bytes" in fault["detail"]


def test_the_api_refuses_a_declared_oversized_body_unread(server):
    head = request_head(
        "POST",
        "/v1.0/seller/TMSUS/return-order/create/1/generateRMA.xml",
        {"Content-Type": "application/xml", "Content-Length": str(50 * 1024 * 1024)},
    )
    status, _, body = exchange(server["port"], head)
    assert status == 413
    assert b"RMA 1001" in body
