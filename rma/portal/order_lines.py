"""The order page's lines, ready for the plain markup of `portal/order.html`.

Drawing every line's controls with Django widgets cost about a millisecond a line (each
widget, and each `<option>`, is a template render of its own; bench/results.md). Here a
line gets strings and flags only: the reason `<option>`s are built once per request for
each value that is selected, and the texts every line shares are translated once. The
quantity is a number input bounded by the returnable quantity: its size does not grow
with the quantity, however large (the service checks the figure sent).

A store's reasons may be limited to departments (no "Too small" for a mug): each line is
offered the reasons that fit its department, one list built per department, grouped by
the reasons' categories, sub-reasons after their parent.
"""

from __future__ import annotations

from django.template.loader import get_template
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext, to_locale
from django.utils.translation import gettext as _

from catalogue.models import Variant
from payments.money import MoneyError, format_money, unit_share_paid
from rma.policy import StorePolicy

from .branding import secure_url
from .forms import ReturnForm
from .photos import ACCEPT, MAX_PHOTOS_PER_LINE
from .wording import ineligibility_text


class Options:
    """The `<option>`s of a `<select>` as HTML, built once for each selected value."""

    def __init__(self, choices):
        self.choices = [(str(value), str(text)) for value, text in choices]
        self.html: dict[str, SafeString] = {}

    def __call__(self, selected: str) -> SafeString:
        if selected not in self.html:
            self.html[selected] = format_html_join(
                "\n",
                '<option value="{}"{}>{}</option>',
                (
                    (value, " selected" if value == selected else "", text)
                    for value, text in self.choices
                ),
            )
        return self.html[selected]


class ReasonOptions:
    """The reason `<option>`s that fit each department, built once per department."""

    def __init__(self, form: ReturnForm, policy: StorePolicy):
        self.policy = policy
        self.texts = {str(code): str(text) for code, text in form.reasons}
        self.placeholder = form.reasons[0] if form.reasons and not form.reasons[0][0] else None
        self.by_department: dict[str, Options | GroupedOptions] = {}

    def __call__(self, department: str, selected: str) -> SafeString:
        key = (department or "").strip().casefold()
        if key not in self.by_department:
            self.by_department[key] = self._options(department)
        return self.by_department[key](selected)

    def _options(self, department: str):
        reasons = self.policy.reasons_for_department(department)
        codes = {reason.code for reason in reasons}
        ordered = []
        for reason in reasons:
            if reason.parent and reason.parent in codes:
                continue  # listed after its parent
            ordered.append(reason)
            ordered.extend(r for r in reasons if r.parent == reason.code)
        choices = [
            (
                reason.code,
                self._text(reason, codes),
                reason.category,
            )
            for reason in ordered
        ]
        head = [self.placeholder] if self.placeholder else []
        if not any(category for _, _, category in choices):
            return Options(head + [(code, text) for code, text, _ in choices])
        return GroupedOptions(head, choices)

    def _text(self, reason, codes) -> str:
        text = self.texts.get(reason.code, reason.description)
        if reason.parent and reason.parent in codes:
            return f"{self.texts.get(reason.parent, reason.parent)}: {text}"
        return text


class GroupedOptions(Options):
    """`<option>`s in an `<optgroup>` per category (reasons without one stay on top)."""

    def __init__(self, head, choices):
        super().__init__(head + [(code, text) for code, text, _ in choices])
        self.head = [(str(value), str(text)) for value, text in head]
        self.groups: dict[str, list[tuple[str, str]]] = {}
        for code, text, category in choices:
            self.groups.setdefault(category, []).append((code, text))

    def __call__(self, selected: str) -> SafeString:
        if selected not in self.html:
            parts = [
                self._options(self.head, selected),
                self._options(self.groups.get("", []), selected),
            ]
            parts.extend(
                format_html(
                    '<optgroup label="{}">{}</optgroup>',
                    category,
                    self._options(items, selected),
                )
                for category, items in self.groups.items()
                if category
            )
            self.html[selected] = SafeString("\n".join(part for part in parts if part))
        return self.html[selected]

    @staticmethod
    def _options(items, selected: str) -> SafeString:
        return format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            ((value, " selected" if value == selected else "", text) for value, text in items),
        )


def line_controls(form: ReturnForm) -> dict:
    """The labels and attributes the lines share, escaped once."""
    texts = {
        "quantity": _("Quantity"),
        "reason": _("Reason"),
        "photo": _("Photos of the item"),
        "photo_hint": form.photo_hint,
        "photo_count": _("You can add up to %(count)d photos.") % {"count": MAX_PHOTOS_PER_LINE},
        "photo_reasons": " ".join(form.photo_reasons),
        "photo_accept": ACCEPT,
        "cannot_return": _("This item cannot be returned:"),
        "exchange_unavailable": _(
            "None of the other versions of this item is available right now: our team will "
            "contact you about your exchange."
        ),
    }
    return {name: escape(text) for name, text in texts.items()}


def price_paid_text(line, *, currency: str, locale: str) -> str:
    """The amount paid per unit, as the shopper reads it (e.g. "$19.35 each")."""
    try:
        # Units may differ by a cent (the remainder is on the last): the first is typical.
        amount = unit_share_paid(
            unit_price=line.unit_price,
            quantity=line.quantity,
            discount=line.discount,
            tax=line.tax,
            currency=currency,
        )
        if amount is None:
            return ""
        return format_money(amount, currency, locale)
    except (MoneyError, TypeError, ValueError, ArithmeticError):
        return ""


def order_lines(verdicts, form: ReturnForm, *, order, variants: list[Variant]) -> list[dict]:
    """Every order line with what its markup shows, in the order of the verdicts.
    `variants`: the order's (`catalogue.selectors.order_page_variants`), for the items'
    pictures, titles and options."""
    item_text = _("Item %(item_id)s")
    ordered_text = _("Ordered: %(quantity)s")
    paid_text = _("Price paid: %(amount)s each")
    reason_code_text = _("reason code %(number)s")
    currency = order.store.currency
    locale = to_locale(get_language() or "en")
    variant_of = {variant.item_id: variant for variant in variants}
    legend_text = _("Return options for %(title)s")
    select_text = _("Return “%(title)s”")
    reason_options = ReasonOptions(form, StorePolicy.of(order.store))
    returnable_texts: dict[int, str] = {}
    lines = []
    for verdict in verdicts:
        line = verdict.line
        variant = variant_of.get(line.item_id)
        title = line.title or (variant.product.title if variant else "") or line.item_id
        paid = price_paid_text(line, currency=currency, locale=locale)
        entry = {
            "eligible": verdict.eligible,
            # Safe as it is (digits): in ids on every control, it is never escaped again.
            "number": SafeString(verdict.line_number),
            "image_url": secure_url(line.image_url or (variant.picture_url if variant else "")),
            "title": title,
            "options": [{"name": name, "value": value} for name, value in variant.options]
            if variant
            else [],
            "price_paid": paid_text % {"amount": paid} if paid else "",
            "item_id": item_text % {"item_id": line.item_id},
            "ordered": ordered_text % {"quantity": line.quantity},
            "errors": form.line_errors(verdict.line_number),
        }
        if verdict.eligible:
            count = verdict.returnable_quantity
            if count not in returnable_texts:
                returnable_texts[count] = ngettext(
                    "You can return %(counter)s of this item.",
                    "You can return up to %(counter)s of this item.",
                    count,
                ) % {"counter": count}
            values = form.line_values(verdict.line_number)
            entry |= {
                "returnable": returnable_texts[count],
                "max_quantity": count,
                "legend": legend_text % {"title": title},
                "select_label": select_text % {"title": title},
                "selected": values.selected,
                "quantity": values.quantity,
                "reason_options": reason_options(line.department, values.reason),
            }
        else:
            entry["reasons"] = [
                {
                    "code": rule.code,
                    # "reason code 1006": cannot be taken for an RMA number.
                    "code_text": reason_code_text % {"number": rule.code.removeprefix("RMA ")},
                    "text": ineligibility_text(rule.code, verdict=verdict, order=order),
                }
                for rule in verdict.failures
            ]
        lines.append(entry)
    return lines


def lines_markup(lines: list[dict], controls: dict) -> SafeString:
    """The `<li>` of every line (`order_lines` with their pickers), drawn by Jinja2.

    Django's engine spent about 50 µs a line on the 25 values of a line's markup, half the
    page's time at 100 lines; Jinja2 compiles the template to Python (docs/decisions.md).
    Every value is escaped by the template's autoescape.
    """
    template = get_template("portal/order_lines.html", using="jinja2")
    return SafeString(template.render({"lines": lines, "controls": controls}))
