"""Signed links for shoppers: the status page is reachable from the email with no login."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Rma

STATUS_SALT = "rma.status-link"


def status_token(rma: Rma) -> str:
    return signing.TimestampSigner(salt=STATUS_SALT).sign(rma.rma_number)


def status_path(rma: Rma) -> str:
    return reverse("portal:status", kwargs={"token": status_token(rma)})


def status_url(rma: Rma) -> str:
    return settings.SITE_URL + status_path(rma)


def rma_number_from_status_token(token: str) -> str | None:
    """The RMA number a status token was signed for, or None if tampered with or expired."""
    max_age = settings.SIGNED_LINK_MAX_AGE_DAYS * 24 * 60 * 60
    try:
        return signing.TimestampSigner(salt=STATUS_SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:
        return None
