"""The policy editor, versions and rollback in the admin (without a browser)."""

import pytest
from django.urls import reverse

from policies.models import PolicySource, PolicyVersion
from rma.models import Store
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS", policy={"return_window_days": 30})


def editor_url(store):
    return reverse("admin:rma_store_policy", args=[store.pk])


def editor_data(client, store, **changes):
    """The editor's form as the page sends it, with `changes` applied."""
    response = client.get(editor_url(store))
    assert response.status_code == 200
    editor = response.context["editor"]
    data = {}
    for form in (editor.settings, editor.preview, editor.simulate):
        for field in form:
            value = field.value()
            if isinstance(value, list):
                data[field.html_name] = value
            elif value is True:
                data[field.html_name] = "on"
            elif value not in (None, False):
                data[field.html_name] = value
    for formset in (editor.reasons, editor.rules):
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset:
            for field in form:
                value = field.value()
                if value is True:
                    data[field.html_name] = "on"
                elif value not in (None, False):
                    data[field.html_name] = value
    data.update(changes)
    return data


def test_the_store_page_links_to_the_editor(login, supervisor, store):
    client = login(supervisor)
    page = client.get(reverse("admin:rma_store_change", args=[store.pk])).content.decode()
    assert editor_url(store) in page


def test_publishing_a_new_window_records_a_version_with_author_and_diff(login, supervisor, store):
    client = login(supervisor)
    data = editor_data(client, store, return_window_days="45", action="publish")
    response = client.post(editor_url(store), data)
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.policy["return_window_days"] == 45
    version = PolicyVersion.objects.get(store=store)
    assert (version.number, version.source, version.author) == (1, PolicySource.EDITOR, supervisor)
    assert version.diff == [{"path": "policy.return_window_days", "before": 30, "after": 45}]


def test_saving_unchanged_writes_no_version(login, supervisor, store):
    client = login(supervisor)
    client.post(editor_url(store), editor_data(client, store, action="publish"))
    assert not PolicyVersion.objects.exists()
    assert Store.objects.get(pk=store.pk).policy == {"return_window_days": 30}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("return_window_days", "-1", "must be at least 0"),
        ("return_fee_amount", "lots", "return_fee.amount"),
        ("brand_colour", "green", "a colour like #1A6B3C"),
    ],
)
def test_an_invalid_value_is_named_and_nothing_changes(
    login, supervisor, store, field, value, message
):
    client = login(supervisor)
    response = client.post(
        editor_url(store), editor_data(client, store, action="publish", **{field: value})
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert field in response.context["editor"].settings.errors or any(
        message in problem for problem in response.context["editor"].problems
    )
    assert not PolicyVersion.objects.exists()
    assert Store.objects.get(pk=store.pk).policy == {"return_window_days": 30}


def test_an_agent_may_look_but_not_publish(login, agent, store):
    client = login(agent)
    assert client.get(editor_url(store)).status_code == 200
    data = editor_data(client, store, return_window_days="45", action="publish")
    assert client.post(editor_url(store), data).status_code == 403
    assert not PolicyVersion.objects.exists()


def test_another_stores_editor_is_not_found(login, make_staff, store):
    other = StoreFactory(code="OTHER")
    user = make_staff(SUPERVISOR_NAME, stores=[other], username="olga")
    client = login(user)
    assert client.get(editor_url(store)).status_code == 404
    assert client.get(editor_url(other)).status_code == 200


SUPERVISOR_NAME = "Customer care supervisor"


def test_preview_shows_each_line_and_the_rule_that_fired(login, supervisor, store):
    order = OrderFactory(store=store, order_id="1001")
    OrderLineFactory(order=order, line_number=1, unit_price="150.00", quantity=2)
    client = login(supervisor)
    data = editor_data(
        client,
        store,
        action="preview",
        **{
            "preview-order_number": "1001",
            "rules-0-name": "Over 200: review",
            "rules-0-enabled": "on",
            "rules-0-when_0_field": "order_total",
            "rules-0-when_0_op": "gt",
            "rules-0-when_0_value": "200",
            "rules-0-then_0_action": "require_review",
        },
    )
    response = client.post(editor_url(store), data)
    assert response.status_code == 200
    [line] = response.context["preview"]["lines"]
    assert line["draft"].eligible
    assert line["decisions"] == ["review required (Over 200: review)"]
    assert "review required (Over 200: review)" in response.content.decode()
    assert not PolicyVersion.objects.exists()  # a preview publishes nothing


def test_rollback_publishes_the_old_policy_as_a_new_version(login, supervisor, store):
    client = login(supervisor)
    client.post(
        editor_url(store), editor_data(client, store, return_window_days="45", action="publish")
    )
    client.post(
        editor_url(store), editor_data(client, store, return_window_days="60", action="publish")
    )
    assert Store.objects.get(pk=store.pk).policy["return_window_days"] == 60
    response = client.post(reverse("admin:rma_store_policy_rollback", args=[store.pk, 1]))
    assert response.status_code == 302
    assert Store.objects.get(pk=store.pk).policy["return_window_days"] == 45
    latest = PolicyVersion.objects.filter(store=store).first()
    assert (latest.number, latest.source, latest.restored_from) == (3, PolicySource.ROLLBACK, 1)
    page = client.get(reverse("admin:rma_store_policy_versions", args=[store.pk])).content.decode()
    assert "Rollback" in page and "policy.return_window_days" in page


def test_rollback_needs_the_permission_and_a_post(login, agent, supervisor, store):
    client = login(supervisor)
    client.post(
        editor_url(store), editor_data(client, store, return_window_days="45", action="publish")
    )
    url = reverse("admin:rma_store_policy_rollback", args=[store.pk, 1])
    assert client.get(url).status_code == 403
    assert login(agent).post(url).status_code == 403


def test_every_setting_is_shown_once():
    from policies.admin import SECTIONS
    from policies.forms import PolicyForm

    shown = [name for _, names in SECTIONS for name in names]
    assert sorted(shown) == sorted(PolicyForm.base_fields)


def test_simulate_shows_the_table_and_the_chart(login, supervisor, store, agent):
    order = OrderFactory(store=store, order_id="1002")
    OrderLineFactory(order=order, line_number=1, department="Mugs", quantity=1)
    client = login(supervisor)
    data = editor_data(client, store, action="simulate", excluded_departments="Mugs")
    response = client.post(editor_url(store), data)
    html = response.content.decode()
    rows = {row["name"]: row for row in response.context["simulation"]["rows"]}
    assert (rows["lines_eligible"]["live"], rows["lines_eligible"]["draft"]) == (1, 0)
    assert 'data-testid="simulation-chart"' in html and "<rect" in html
    assert not PolicyVersion.objects.exists()
    # Agents have no simulator.
    assert login(agent).post(editor_url(store), data).status_code == 403


def test_reasons_are_edited_as_rows(login, supervisor, store):
    client = login(supervisor)
    data = editor_data(client, store, action="publish")
    total = int(data["reasons-TOTAL_FORMS"])  # the built-in reasons and one empty row
    data |= {
        f"reasons-{total - 1}-code": "CHIPPED",
        f"reasons-{total - 1}-description": "Chipped",
        f"reasons-{total - 1}-category": "Damage",
        f"reasons-{total - 1}-parent": "DEFECTIVE",
        f"reasons-{total - 1}-departments": "Mugs, Plates",
        "reasons-2-DELETE": "on",  # TOO_SMALL
    }
    assert client.post(editor_url(store), data).status_code == 302
    reasons = {r["code"]: r for r in Store.objects.get(pk=store.pk).policy["reasons"]}
    assert "TOO_SMALL" not in reasons
    assert reasons["CHIPPED"] == {
        "code": "CHIPPED",
        "description": "Chipped",
        "category": "Damage",
        "parent": "DEFECTIVE",
        "departments": ["Mugs", "Plates"],
        "seller_fault": False,
        "requires_review": False,
        "requires_photo": False,
    }


def test_an_invalid_rule_is_named_and_nothing_is_published(login, supervisor, store):
    client = login(supervisor)
    data = editor_data(
        client,
        store,
        action="publish",
        **{
            "rules-0-name": "Broken",
            "rules-0-enabled": "on",
            "rules-0-when_0_field": "order_total",
            "rules-0-when_0_op": "in",
            "rules-0-when_0_value": "200",
            "rules-0-then_0_action": "block",
        },
    )
    response = client.post(editor_url(store), data)
    assert response.status_code == 200
    problems = response.context["editor"].problems
    assert "policy.rules[0].when[0].op: 'in' does not compare numbers (use gt, gte, …)" in problems
    assert 'policy.rules[0].then[0]: a block action needs "message"' in problems
    assert not PolicyVersion.objects.exists()


def test_preview_with_a_channel_and_reason_lets_those_rules_decide(login, supervisor, store):
    order = OrderFactory(store=store, order_id="1003")
    OrderLineFactory(order=order, line_number=1, quantity=1)
    client = login(supervisor)
    rule = {
        "rules-0-name": "No API changed minds",
        "rules-0-enabled": "on",
        "rules-0-when_0_field": "channel",
        "rules-0-when_0_op": "in",
        "rules-0-when_0_value": "API",
        "rules-0-when_1_field": "reason",
        "rules-0-when_1_op": "in",
        "rules-0-when_1_value": "CHANGED_MIND",
        "rules-0-then_0_action": "block",
        "rules-0-then_0_value": "Ask the shop",
        "preview-order_number": "1003",
    }
    unknown = client.post(editor_url(store), editor_data(client, store, action="preview", **rule))
    assert unknown.context["preview"]["lines"][0]["draft"].eligible
    data = editor_data(
        client,
        store,
        action="preview",
        **rule,
        **{"preview-channel": "API", "preview-reason": "CHANGED_MIND"},
    )
    [line] = client.post(editor_url(store), data).context["preview"]["lines"]
    assert line["draft"].codes == ("RMA 1024",)
    assert line["live"].eligible
    assert line["decisions"] == ["blocked: Ask the shop (No API changed minds)"]
