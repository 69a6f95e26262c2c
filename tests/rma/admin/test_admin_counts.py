"""Result counts under the lists: exact for small lists, "about" only for a large table."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import StoreFactory, SupplierFactory, WebhookEndpointFactory, rma_with_lines

pytestmark = pytest.mark.django_db

RMA_APP_ADMINS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "rma"),
    key=lambda model: model._meta.model_name,
)


@pytest.fixture
def rows():
    for code in ("ONE", "TWO"):
        store = StoreFactory(code=code)
        SupplierFactory(store=store)
        WebhookEndpointFactory(store=store)
        rma_with_lines(1, order__store=store)


@pytest.mark.parametrize("model", RMA_APP_ADMINS, ids=lambda model: model._meta.model_name)
def test_small_lists_print_an_exact_count(admin_client, rows, model):
    url = reverse(f"admin:rma_{model._meta.model_name}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    paginator = re.search(r'<p class="paginator">(.*?)</p>', response.content.decode(), re.S)
    text = " ".join(paginator[1].split())
    count = response.context["cl"].result_count
    assert "more than" not in text and "about" not in text, text
    assert text.startswith(f"{count} "), text
