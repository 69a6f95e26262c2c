"""Signed label download links: the email's link works with no login, for a limited time.

A link names the RMA, not one label file, and always serves the RMA's current ISSUED
label, so a link sent before a re-issue gets the new label.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "labels.download"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def label_token(rma) -> str:
    return _signer().sign(rma.rma_number)


def label_url(rma) -> str:
    """The absolute, signed download link of an RMA's label (`settings.SITE_URL`)."""
    return settings.SITE_URL + reverse("labels:download", kwargs={"token": label_token(rma)})


def rma_number_from_label_token(token: str) -> str | None:
    """The RMA number a token was signed for, or None if tampered with or expired."""
    max_age = settings.SIGNED_LINK_MAX_AGE_DAYS * 24 * 60 * 60
    try:
        return _signer().unsign(token, max_age=max_age)
    except signing.BadSignature:
        return None
