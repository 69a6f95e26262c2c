"""Signed label links: the right PDF for a valid link, the same bare 404 for anything else."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from labels.links import label_token, label_url
from labels.services import label_issue, label_reissue
from tests.factories import RmaFactory
from tests.labels.conftest import add_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(rma, fake_service):
    label_issue(rma_id=rma.pk)
    rma.refresh_from_db()
    return rma


def path_of(url: str, settings) -> str:
    assert url.startswith(settings.SITE_URL + "/labels/")
    return url.removeprefix(settings.SITE_URL)


def test_link_is_absolute_and_downloads_the_pdf(client, issued, settings):
    settings.SITE_URL = "https://returns.example.com"
    url = label_url(issued)

    response = client.get(path_of(url, settings))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="return-label-{issued.rma_number}.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    with issued.label_file.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_link_serves_the_current_label_after_a_reissue(client, issued, settings, fake_service):
    url = label_url(issued)
    label_reissue(rma=issued)
    new_label = label_issue(rma_id=issued.pk)

    response = client.get(path_of(url, settings))

    with new_label.file.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def refused(client, path) -> str:
    """The 404 page, minus the per-request tokens (CSRF, CSP nonce) it may carry."""
    response = client.get(path)
    assert response.status_code == 404
    return re.sub(r'(value|nonce)="[^"]*"', "", response.content.decode())


def test_tampered_foreign_and_unknown_links_all_get_the_same_404(client, issued, fake_service):
    token = label_token(issued)
    other = RmaFactory(order=issued.order)
    add_line(other)
    label_issue(rma_id=other.pk)
    other_token = label_token(other)
    number, timestamp, signature = token.split(":")
    tampered = signature[:-1] + ("B" if signature[-1] == "A" else "A")

    bodies = {
        refused(client, f"/labels/{number}:{timestamp}:{tampered}/"),
        # Another RMA's number with this RMA's signature.
        refused(client, f"/labels/{other.rma_number}:{timestamp}:{signature}/"),
        # This RMA's number with the other RMA's (valid) signature.
        refused(client, f"/labels/{number}:{':'.join(other_token.split(':')[1:])}/"),
        refused(client, f"/labels/{number}/"),
        refused(client, "/labels/nonsense/"),
    }
    assert len(bodies) == 1
    (body,) = bodies
    assert issued.rma_number not in body
    assert other.rma_number not in body
    assert client.get(f"/labels/{other_token}/").status_code == 200


def test_link_expires(client, issued, settings):
    settings.SIGNED_LINK_MAX_AGE_DAYS = 180
    path = path_of(label_url(issued), settings)
    now = timezone.now()

    with time_machine.travel(now + dt.timedelta(days=179, hours=23), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(now + dt.timedelta(days=180, minutes=1), tick=False):
        assert client.get(path).status_code == 404


def test_link_to_an_rma_without_an_issued_label_is_refused(client, rma, settings):
    assert client.get(path_of(label_url(rma), settings)).status_code == 404


def test_voided_label_is_not_served(client, issued, settings):
    path = path_of(label_url(issued), settings)
    label_reissue(rma=issued)
    assert client.get(path).status_code == 404


def test_missing_file_is_refused(client, issued, settings):
    issued.label_file.storage.delete(issued.label_file.name)
    assert client.get(path_of(label_url(issued), settings)).status_code == 404


def test_only_get_and_head(client, issued, settings):
    path = path_of(label_url(issued), settings)
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405
