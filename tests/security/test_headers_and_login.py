"""Security by default: a CSP on every page, hardened headers, admin login throttling."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/warehouse/receive/", "/api/docs/"])
def test_every_page_has_a_content_security_policy(client, path):
    response = client.get(path, follow=True)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-eval" not in policy


def test_pages_refuse_framing_and_sniffing(client):
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_forms_carry_a_csrf_token(client):
    assert b"csrfmiddlewaretoken" in client.get("/").content


def test_a_post_without_csrf_token_is_refused():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/", {"order_number": "1", "contact": "a@example.com"})
    assert response.status_code == 403


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_admin_login_locks_out_after_repeated_failures(client):
    UserFactory(username="agent", is_staff=True)
    login = reverse("admin:login")
    for _ in range(3):
        client.post(login, {"username": "agent", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    locked = client.post(
        login, {"username": "agent", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.9"
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
