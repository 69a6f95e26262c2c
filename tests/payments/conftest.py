"""Fixtures for the payments tests: the local Stripe API and the project set up to use it."""

import pytest

from .stripe_server import API_KEY, FakeStripe


@pytest.fixture
def stripe_api(settings):
    """The fake Stripe API, started; REFUND_SERVICE=stripe pointed at it."""
    server = FakeStripe().start()
    settings.REFUND_SERVICE = "stripe"
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_TIMEOUT = 2.0
    yield server
    server.stop()
