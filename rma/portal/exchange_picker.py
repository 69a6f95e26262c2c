"""The exchange picker of the order page: per eligible line, one radio per variant.

Shown when the store offers the EXCHANGE resolution and the line's item is in the
catalogue. It works without JavaScript (the radios are posted with the form, and only
read when EXCHANGE is chosen); `static/portal/portal.js` hides it until EXCHANGE is
chosen. Out-of-stock variants, and those dearer than what was paid, are shown disabled
with the reason in words. The choices come from the variants the page reads for its items
(`catalogue.selectors.order_page_variants`): no query of their own.
"""

from __future__ import annotations

from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from catalogue.selectors import exchange_options_of_eligible_lines
from payments.money import MoneyError, format_money

from .branding import secure_url


def picture_url(url: str) -> str:
    """A picture the page may show: https from an origin we allow, or a path on this site."""
    if url.startswith("/") and not url.startswith("//"):
        return url
    return secure_url(url)


def _money(amount, currency: str) -> str:
    try:
        return format_money(amount, currency, to_locale(get_language() or "en"))
    except MoneyError:
        return str(amount)


def exchange_pickers(*, choices: dict, verdicts, currency: str, chosen) -> dict[int, dict]:
    """Per line number, what the picker of a line shows (absent: no picker).

    `choices`: `exchange_choices(...)`; `chosen(number)` is the item id the form has for
    the line (after an error), or "". No query.
    """
    lines = {verdict.line_number: verdict.line for verdict in verdicts}
    out_of_stock = _("Out of stock")
    dearer = _("Costs more than you paid")
    pickers = {}
    for number, line_choices in choices.items():
        line = lines[number]
        selected = chosen(number)
        title = line.title or line.item_id
        options = []
        for index, option in enumerate(line_choices.options):
            name = option.options_label or option.item_id
            if not option.same_product:
                name = f"{option.title} ({name})" if option.options_label else option.title
            options.append(
                {
                    "id": f"id_line-{number}-exchange_{index}",
                    "item_id": option.item_id,
                    "name": name,
                    "price": _money(option.price, currency)
                    if option.price != line.unit_price
                    else "",
                    "image_url": picture_url(option.image_url),
                    "available": option.available,
                    "unavailable_text": ""
                    if option.available
                    else (out_of_stock if not option.in_stock else dearer),
                    "checked": option.available and option.item_id == selected,
                }
            )
        pickers[number] = {
            "legend": _("If you choose an exchange: what would you like instead of “%(title)s”?")
            % {"title": title},
            "options": options,
            "has_available": any(option["available"] for option in options),
        }
    return pickers


def exchange_image_urls(choices: dict) -> list[str]:
    """The pictures the pickers show, for the page's image policy."""
    return [
        url
        for line_choices in choices.values()
        for option in line_choices.options
        if (url := picture_url(option.image_url))
    ]


def with_exchange_pickers(lines: list[dict], *, form, verdicts, currency: str) -> list[dict]:
    """The order page's line entries (`order_lines.order_lines`), each with `exchange`:
    its picker, or None. The choices come with the form (`form.exchanges`): no query."""
    pickers = exchange_pickers(
        choices=form.exchanges, verdicts=verdicts, currency=currency, chosen=form.exchange_value
    )
    for entry in lines:
        entry["exchange"] = pickers.get(int(entry["number"]))
    return lines


def exchange_choices(*, order, verdicts, policy, variants) -> dict:
    """Per line number of an eligible line, its exchange choices (`LineExchangeOptions`);
    empty when the store does not offer EXCHANGE. No query: `variants` are the order's
    (`catalogue.selectors.order_page_variants`)."""
    return exchange_options_of_eligible_lines(
        order=order, verdicts=verdicts, policy=policy, variants=variants
    )
