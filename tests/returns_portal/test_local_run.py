"""`make run` locally: links follow HOST and PORT, and commands print no noise (django-axes'
start-up line, WeasyPrint's steps, kombu's warning for every eager task)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from returns_portal.site_url import local_site_url

ROOT = Path(__file__).resolve().parents[2]

# Run under the local settings, as `make run` does, with no broker and no SITE_URL.
SCRIPT = """
import weasyprint
from celery import current_app
from django.conf import settings

import returns_portal.celery  # noqa: F401

print("SITE_URL=" + settings.SITE_URL)
with current_app.producer_or_acquire() as producer:  # what an eager task does first
    print("broker=" + producer.connection.transport_cls)
weasyprint.HTML(string="<p>A label</p>").write_pdf()
"""


def run_local(**env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SITE_URL", "HOST", "PORT", "CELERY_BROKER_URL", "LOG_LEVEL", "DEBUG")
        and not key.startswith("DJANGO_")
    }
    environment |= {"DJANGO_SETTINGS_MODULE": "returns_portal.settings.local", **env}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_local_command_prints_no_noise_and_links_follow_the_port():
    result = run_local(PORT="8731")

    assert result.returncode == 0, result.stderr
    assert "SITE_URL=http://127.0.0.1:8731" in result.stdout
    assert "broker=memory" in result.stdout
    output = result.stdout + result.stderr
    assert "AXES: BEGIN" not in output
    assert "weasyprint" not in output.lower()
    assert "No hostname was supplied" not in output
    assert result.stderr == ""


def test_an_explicit_site_url_wins():
    result = run_local(PORT="8731", SITE_URL="https://returns.example.com/")

    assert "SITE_URL=https://returns.example.com" in result.stdout


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", "8000", "http://127.0.0.1:8000"),
        ("0.0.0.0", "8731", "http://127.0.0.1:8731"),  # noqa: S104
        ("localhost", 9000, "http://localhost:9000"),
        ("::", "8731", "http://[::1]:8731"),
        ("::1", "8731", "http://[::1]:8731"),
        ("192.168.1.20", "8731", "http://192.168.1.20:8731"),
    ],
)
def test_local_site_url(host, port, url):
    assert local_site_url(host, port) == url


def test_make_run_passes_host_and_port_to_every_command():
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8731", "HOST=0.0.0.0"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    commands = [line for line in result.stdout.splitlines() if "manage.py" in line]
    assert [line.split("manage.py ")[1] for line in commands] == [
        "migrate --noinput",
        "load_demo",
        "ensure_admin",
        "runserver 0.0.0.0:8731",
    ]
    assert all(line.startswith("HOST=0.0.0.0 PORT=8731 ") for line in commands)
