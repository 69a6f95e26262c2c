"""Fixtures for the carrier tests: the fake EasyPost and Shippo servers, configured."""

from __future__ import annotations

import pytest

from tests.labels.fake_easypost import FakeEasyPost
from tests.labels.fake_shippo import FakeShippo

from .support import EASYPOST_WEBHOOK_SECRET, SHIPPO_WEBHOOK_TOKEN


@pytest.fixture
def easypost(settings):
    fake = FakeEasyPost().start()
    settings.LABEL_SERVICE = "easypost"
    settings.EASYPOST_API_KEY = fake.api_key
    settings.EASYPOST_API_BASE = fake.url
    settings.EASYPOST_WEBHOOK_SECRET = EASYPOST_WEBHOOK_SECRET
    settings.LABEL_SERVICE_TIMEOUT = 5
    yield fake
    fake.stop()


@pytest.fixture
def shippo(settings):
    fake = FakeShippo().start()
    settings.LABEL_SERVICE = "shippo"
    settings.SHIPPO_API_KEY = fake.api_key
    settings.SHIPPO_API_BASE = fake.url
    settings.SHIPPO_WEBHOOK_TOKEN = SHIPPO_WEBHOOK_TOKEN
    settings.LABEL_SERVICE_TIMEOUT = 5
    yield fake
    fake.stop()


@pytest.fixture(params=["easypost", "shippo"])
def carrier(request):
    """Each carrier in turn: its fake, started and configured."""
    return request.getfixturevalue(request.param)
