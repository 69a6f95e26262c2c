"""Fixtures for the payments tests: the local Stripe API and the project set up to use it."""

import pytest

from .stripe_server import stripe_for_refunds


@pytest.fixture
def stripe_api(settings):
    """The fake Stripe API, started; REFUND_SERVICE=stripe pointed at it."""
    with stripe_for_refunds(settings, timeout=2.0) as server:
        yield server
