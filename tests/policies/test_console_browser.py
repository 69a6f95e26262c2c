"""A supervisor edits, previews, publishes and rolls back a store policy in headless Chromium."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from policies.models import PolicySource, PolicyVersion
from rma.importing import import_document
from rma.models import Store
from tests.factories import OrderFactory, OrderLineFactory, spec_import_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )
    yield page
    context.close()
    assert problems == [], "no script errors and no CSP violations"


@pytest.fixture
def store():
    import_document(spec_import_document())  # version 1: the import
    store = Store.objects.get(code="TMSUS")
    big = OrderFactory(store=store, order_id="BIG-1", customer_email="ada@example.com")
    OrderLineFactory(order=big, line_number=1, unit_price=Decimal("250.00"), quantity=1)
    return store


def test_edit_preview_publish_and_roll_back(page, store, supervisor):
    editor = f"/admin/rma/store/{store.pk}/policy/"
    page.goto(f"/admin/login/?next={editor}")
    page.get_by_label("Username").fill(supervisor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(editor)
    expect(page.get_by_test_id("policy-editor")).to_be_visible()

    page.get_by_label("Return window (days)").fill("45")
    page.locator('[name="rules-0-name"]').fill("Orders over $200: require review")
    page.locator('[name="rules-0-when_0_field"]').select_option("order_total")
    page.locator('[name="rules-0-when_0_op"]').select_option("gt")
    page.locator('[name="rules-0-when_0_value"]').fill("200")
    page.locator('[name="rules-0-then_0_action"]').select_option("require_review")

    # Preview on an order over $200: eligible, and the new rule asks for review.
    page.get_by_label("Order number").fill("BIG-1")
    page.get_by_test_id("preview").click()
    line = page.get_by_test_id("preview-line")
    expect(line.get_by_test_id("draft-eligibility")).to_have_text("eligible")
    expect(line.get_by_test_id("rules-fired")).to_have_text(
        "review required (Orders over $200: require review)"
    )
    # The draft survives the preview (nothing published yet).
    expect(page.get_by_label("Return window (days)")).to_have_value("45")
    assert PolicyVersion.objects.filter(store=store).count() == 1

    page.get_by_test_id("publish").click()
    expect(page.locator(".messagelist")).to_contain_text("Published version 2.")
    store.refresh_from_db()
    assert store.policy["return_window_days"] == 45
    assert store.policy["rules"][0]["name"] == "Orders over $200: require review"

    page.get_by_test_id("versions-link").click()
    published = page.locator('[data-testid="version"][data-number="2"]')
    expect(published.get_by_test_id("diff")).to_contain_text("policy.return_window_days: 30 → 45")
    expect(published).to_contain_text(supervisor.username)
    page.get_by_test_id("rollback-1").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Rolled back to version 1 (now version 3)."
    )
    store.refresh_from_db()
    assert store.policy["return_window_days"] == 30
    assert "rules" not in store.policy
    latest = PolicyVersion.objects.filter(store=store).first()
    assert (latest.number, latest.source, latest.author_id) == (
        3,
        PolicySource.ROLLBACK,
        supervisor.pk,
    )
