"""The `money` template filter: amounts in the shopper's language."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", Decimal("67.98"), "USD", "$67.98"),
        ("de", Decimal("67.98"), "USD", "67,98\xa0$"),
        ("de", "1234.5", "EUR", "1.234,50\xa0€"),
        ("en", Decimal("500"), "JPY", "¥500"),
        ("en", None, "USD", ""),
        ("en", "not money", "USD", ""),
    ],
)
def test_money_filter(language, amount, currency, shown):
    template = Template("{% load money %}{{ amount|money:currency }}")
    with translation.override(language):
        rendered = template.render(Context({"amount": amount, "currency": currency}))
    assert rendered == shown
