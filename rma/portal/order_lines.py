"""The order page's lines, ready for the plain markup of `portal/order.html`.

Drawing every line's controls with Django widgets cost about a millisecond a line (each
widget, and each `<option>`, is a template render of its own; bench/results.md). Here a
line gets strings and flags only: the reason `<option>`s are built once per request for
each value that is selected, and the texts every line shares are translated once. The
quantity is a number input bounded by the returnable quantity: its size does not grow
with the quantity, however large (the service checks the figure sent).
"""

from __future__ import annotations

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .branding import secure_url
from .forms import ReturnForm
from .photos import ACCEPT
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


def line_controls(form: ReturnForm) -> dict:
    """The labels and attributes every eligible line's controls share, escaped once."""
    texts = {
        "quantity": _("Quantity"),
        "reason": _("Reason"),
        "photo": _("Photo of the item"),
        "photo_hint": form.photo_hint,
        "photo_reasons": " ".join(form.photo_reasons),
        "photo_accept": ACCEPT,
    }
    return {name: escape(text) for name, text in texts.items()}


def order_lines(verdicts, form: ReturnForm, *, order) -> list[dict]:
    """Every order line with what its markup shows, in the order of the verdicts."""
    item_text = _("Item %(item_id)s")
    ordered_text = _("Ordered: %(quantity)s")
    legend_text = _("Return options for %(title)s")
    select_text = _("Return “%(title)s”")
    reason_options = Options(form.reasons)
    returnable_texts: dict[int, str] = {}
    lines = []
    for verdict in verdicts:
        line = verdict.line
        title = line.title or line.item_id
        entry = {
            "eligible": verdict.eligible,
            # Safe as it is (digits): in ids on every control, it is never escaped again.
            "number": format_html("{}", verdict.line_number),
            "image_url": secure_url(line.image_url),
            "title": title,
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
                "reason_options": reason_options(values.reason),
            }
        else:
            entry["reasons"] = [
                {
                    "code": rule.code,
                    "text": ineligibility_text(rule.code, verdict=verdict, order=order),
                }
                for rule in verdict.failures
            ]
        lines.append(entry)
    return lines
