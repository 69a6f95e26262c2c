"""`{% load money %}{{ amount|money:currency }}`: an amount in the active language.

`$67.98` in English, `67,98 $` in German; an empty string for None.
"""

from django import template
from django.utils.translation import get_language, to_locale

from payments.money import MoneyError, format_money

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    try:
        return format_money(amount, currency, to_locale(get_language() or "en"))
    except MoneyError:
        return ""
