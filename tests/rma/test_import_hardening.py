"""Import input hardening: line quantities capped, texts on one line and valid Unicode,
image URLs without credentials, lengths the database can hold; nothing half-written."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from rma.importing import ImportValidationError, import_document
from rma.importing.schema import MAX_LINE_QUANTITY
from rma.models import Order, OrderLine, Store, Supplier
from tests.factories import import_line_data, spec_import_document

pytestmark = pytest.mark.django_db

LABEL = "(order TMSUS 3000179302)"


def refused(document) -> list[str]:
    with pytest.raises(ImportValidationError) as raised:
        import_document(document)
    assert not Store.objects.exists()
    assert not Order.objects.exists()
    return raised.value.errors


def with_line(**overrides) -> dict:
    document = spec_import_document()
    document["orders"][0]["lines"] = [import_line_data(**overrides)]
    return document


def test_a_line_quantity_above_the_cap_is_refused_naming_the_key():
    assert MAX_LINE_QUANTITY == 10_000

    errors = refused(with_line(quantity=300_000))

    assert errors == [
        f"orders[0].lines[0].quantity: must be at most 10000 (got 300000) {LABEL}",
    ]


def test_a_line_quantity_at_the_cap_is_imported():
    import_document(with_line(quantity=MAX_LINE_QUANTITY))

    assert OrderLine.objects.get().quantity == MAX_LINE_QUANTITY


def _set(path: str, value):
    """A document with `value` at `path` (keys and list indexes separated by dots)."""
    document = spec_import_document()
    *parents, last = path.split(".")
    target = document
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[last] = value
    return document


ONE_LINE_FIELDS = {
    "stores.0.name": ("The Model Store\r\nBcc: everyone@example.com", ""),
    "stores.0.code": ("TMS\nUS", ""),
    "stores.0.return_address.name": ("TMS\nReturns", ""),
    "stores.0.suppliers.0.name": ("Acme\rDrop", ""),
    "stores.0.policy.reasons.0.description": ("Too\nsmall", ""),
    "stores.0.support_email": ("care@example.com\n", ""),
    "stores.0.logo_url": ("https://cdn.example.com/logo.png\r\n", ""),
    "orders.0.order_id": ("3000179302\n", ""),
    "orders.0.customer.name": ("Ada\u2028Lovelace", LABEL),
    "orders.0.customer.email": ("ada@example.com\r\nBcc: x@example.com", LABEL),
    "orders.0.shipping_address.line1": ("12 Elm St\nApt 4", LABEL),
    "orders.0.lines.0.title": ('Laptop case 15"\nSubject: spam', LABEL),
    "orders.0.lines.0.item_id": ("21-RITOCS004b\r", LABEL),
    "orders.0.lines.0.department": ("Accessories\x85", LABEL),
    "orders.0.lines.0.image_url": ("https://cdn.example.com/a.png\u2029", LABEL),
}


@pytest.mark.parametrize("path", sorted(ONE_LINE_FIELDS))
def test_a_line_break_in_a_one_line_field_is_refused(path):
    value, label = ONE_LINE_FIELDS[path]

    errors = refused(_set(path, value))

    where = "".join(f"[{key}]" if key.isdigit() else f".{key}" for key in path.split("."))
    where = where.lstrip(".")
    message = f"{where}: must be a single line, without line breaks"
    assert message + (f" {label}" if label else "") in errors
    assert Supplier.objects.count() == 0


def test_c1_control_characters_are_refused():
    errors = refused(with_line(title="Case\x9b31m"))

    assert errors == [f"orders[0].lines[0].title: must not contain control characters {LABEL}"]


def test_a_lone_surrogate_in_a_value_is_refused_and_the_message_can_be_printed():
    errors = refused(with_line(title="Case \ud800"))

    assert errors == [
        "orders[0].lines[0].title: is not valid Unicode text: it contains a lone surrogate"
        f" (\\ud800) {LABEL}"
    ]
    errors[0].encode("utf-8")  # would raise for a surrogate


def test_a_lone_surrogate_in_a_key_is_reported_printably():
    document = with_line()
    document["orders"][0]["lines"][0]["\udfff"] = 1

    errors = refused(document)

    assert errors == [f'orders[0].lines[0]: unknown key "\\udfff" {LABEL}']


def test_the_command_reports_a_lone_surrogate_from_a_json_escape(tmp_path):
    text = json.dumps(spec_import_document()).replace("Ada Lovelace", "Ada \\ud83d")
    path = tmp_path / "orders.json"
    path.write_text(text, encoding="ascii")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 error"):
        call_command("import_data", str(path), stdout=io.StringIO(), stderr=err)

    assert "orders[0].customer.name: is not valid Unicode text" in err.getvalue()
    assert not Order.objects.exists()


def test_the_command_refuses_a_document_nested_too_deeply(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 50_000)

    with pytest.raises(CommandError, match="nested too deeply"):
        call_command("import_data", str(path), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("stores.0.logo_url", "https://x;script-src:'unsafe-inline'@cdn.example.com/logo.png"),
        ("orders.0.lines.0.image_url", "https://user:secret@cdn.example.com/a.png"),
    ],
)
def test_an_image_url_with_credentials_is_refused(path, url):
    errors = refused(_set(path, url))

    assert any(f'"{url}" must not contain a user name or password' in error for error in errors)


@pytest.mark.parametrize(
    ("path", "value", "limit"),
    [
        ("orders.0.lines.0.image_url", "https://cdn.example.com/" + "a" * 200, 200),
        ("stores.0.logo_url", "https://cdn.example.com/" + "a" * 200, 200),
        ("orders.0.customer.email", "a" * 60 + "@" + ("b" * 60 + ".") * 4 + "com", 254),
        ("stores.0.support_email", "a" * 60 + "@" + ("b" * 60 + ".") * 4 + "com", 254),
    ],
)
def test_urls_and_emails_longer_than_their_column_are_refused(path, value, limit):
    errors = refused(_set(path, value))

    assert any(f"must be at most {limit} characters" in error for error in errors)


def test_plain_image_urls_are_still_accepted():
    document = _set("stores.0.logo_url", "https://cdn.example.com/logo.png?w=100,h=100;q=80")
    document["orders"][0]["lines"][0]["image_url"] = "https://cdn.example.com:8443/a,b.png"

    import_document(document)

    assert Store.objects.get().logo_url.endswith("q=80")
    assert OrderLine.objects.get().image_url == "https://cdn.example.com:8443/a,b.png"


def test_a_logo_may_be_a_path_on_this_site_but_never_another_sites():
    for value in ("//evil.example/logo.svg", "/static/logo.svg;script-src", "/" + "a" * 200):
        errors = refused(_set("stores.0.logo_url", value))
        assert any("is not a valid path on this site" in error for error in errors), value

    import_document(_set("stores.0.logo_url", "/static/demo/tms-logo.svg"))
    assert Store.objects.get().logo_url == "/static/demo/tms-logo.svg"
