"""Staff per store: a user of store A gets nothing of store B, on every admin screen.

The screens are enumerated from the admin site's registry and each admin's URLs, so a new
admin or a new custom view is covered (or fails `test_every_custom_admin_url_is_covered`)
without anybody remembering to add it here.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.files.base import ContentFile
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from catalogue.models import ExchangeReservation, Product, Variant
from labels.models import ReturnLabel, TrackingEvent
from payments.models import Refund, StoreCredit, StoreCreditEntry
from policies.models import PolicyVersion
from rma.admin.scoping import (
    StoreScopedAdminMixin,
    forget_store_scope,
    store_ids_for,
    store_path_of,
    stores_for,
)
from rma.models import (
    ApiKey,
    EligibilityOverride,
    LabelStatus,
    Notification,
    Order,
    Rma,
    RmaEvent,
    RmaPhoto,
    RmaStatus,
    StaffStoreAccess,
    Store,
    WebhookDelivery,
)
from tests.factories import (
    ApiKeyFactory,
    EligibilityOverrideFactory,
    OrderFactory,
    OrderLineFactory,
    RmaEventFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    SupplierFactory,
    UserFactory,
    WebhookEndpointFactory,
)

from .conftest import MODEL_BACKEND

pytestmark = pytest.mark.django_db

REGISTRY = dict(admin.site._registry)
SCOPED = sorted(
    (model for model in REGISTRY if store_path_of(model) is not None),
    key=lambda model: model._meta.label,
)
# Registered admins of rows that belong to no store: accounts, and django-axes' login
# records (site security, shown by their own permissions).
UNSCOPED = {
    "auth.User",
    "auth.Group",
    "axes.AccessAttempt",
    "axes.AccessFailureLog",
    "axes.AccessLog",
}
# The views every ModelAdmin has; anything else in get_urls() is a custom screen.
STANDARD_VIEWS = {"changelist", "add", "history", "delete", "change"}
# Custom screens without an object in the URL, each with its own test below.
CUSTOM_WITHOUT_OBJECT = {"rma_dashboard", "rma_rma_export"}


def admin_name(model, view: str) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"


def build_world(code: str) -> dict:
    """One of everything the admin shows, in a store of its own."""
    store = StoreFactory(code=code, name=f"Shop {code}")
    supplier = SupplierFactory(store=store, code=f"SUP-{code}")
    order = OrderFactory(store=store, customer_email=f"{code.lower()}@example.com")
    order_line = OrderLineFactory(order=order, line_number=1, item_id=f"ITEM-{code}")
    rma = RmaFactory(order=order, status=RmaStatus.REQUESTED, label_status=LabelStatus.ISSUED)
    rma_line = RmaLineFactory(rma=rma, order_line=order_line)
    photo = RmaPhoto.objects.create(
        rma_line=rma_line,
        image=ContentFile(b"\xff\xd8 jpeg", name="p.jpg"),
        content_type="image/jpeg",
    )
    endpoint = WebhookEndpointFactory(store=store)
    label = ReturnLabel.objects.create(
        rma=rma, status=LabelStatus.ISSUED, service="builtin", tracking_number=f"1Z{code}"
    )
    credit = StoreCredit.objects.create(
        store=store,
        code=f"CREDIT-{code}",
        currency="USD",
        amount=Decimal("10.00"),
        balance=Decimal("10.00"),
        expires_at=timezone.now() + dt.timedelta(days=365),
        rma=rma,
    )
    product = Product.objects.create(store=store, product_id=f"P-{code}", title=f"Shirt {code}")
    variant = Variant.objects.create(
        product=product, store=store, item_id=f"VAR-{code}", price=Decimal("20.00"), stock=3
    )
    staff = UserFactory(username=f"staff-{code.lower()}")
    api_key = ApiKeyFactory(store=store, name=f"Key {code}")
    objects = {
        Store: store,
        type(supplier): supplier,
        Order: order,
        Rma: rma,
        RmaEvent: RmaEventFactory(rma=rma),
        EligibilityOverride: EligibilityOverrideFactory(order_line=order_line),
        ApiKey: api_key,
        Notification: Notification.objects.create(
            rma=rma, kind="confirmation", recipient=order.customer_email, idempotency_key=code
        ),
        type(endpoint): endpoint,
        WebhookDelivery: WebhookDelivery.objects.create(
            endpoint=endpoint, rma=rma, event="rma.created", payload={"rma": rma.rma_number}
        ),
        StaffStoreAccess: StaffStoreAccess.objects.create(user=staff, store=store),
        ReturnLabel: label,
        TrackingEvent: TrackingEvent.objects.create(
            rma=rma,
            label=label,
            source="easypost",
            source_event_id=f"evt-{code}",
            tracking_number=label.tracking_number,
            status="IN_TRANSIT",
            occurred_at=timezone.now(),
        ),
        Refund: Refund.objects.create(
            rma=rma,
            service="stripe",
            amount=Decimal("5.00"),
            currency="USD",
            idempotency_key=f"refund-{code}",
            status="FAILED",
        ),
        StoreCredit: credit,
        StoreCreditEntry: StoreCreditEntry.objects.create(
            credit=credit, kind="ISSUE", amount=Decimal("10.00"), balance_after=Decimal("10.00")
        ),
        Product: product,
        PolicyVersion: PolicyVersion.objects.create(
            store=store, number=1, policy={}, source="IMPORT", note=f"Version {code}"
        ),
        ExchangeReservation: ExchangeReservation.objects.create(
            rma_line=rma_line,
            variant=variant,
            quantity=1,
            unit_price=Decimal("20.00"),
            price_difference=Decimal("0.00"),
        ),
    }
    return {
        "objects": objects,
        "store": store,
        "order_line": order_line,
        "photo": photo,
        # What a person would type to find this store's rows.
        "terms": [
            rma.rma_number,
            order.order_id,
            order.customer_email,
            code,
            f"P-{code}",
            f"VAR-{code}",
            f"CREDIT-{code}",
            f"1Z{code}",
            f"staff-{code.lower()}",
            f"Key {code}",
        ],
    }


@pytest.fixture
def worlds():
    return {"A": build_world("AAA"), "B": build_world("BBB")}


@pytest.fixture
def user_a(worlds):
    """Every permission there is (even "view all stores"), and one store: A."""
    user = UserFactory(username="alice")
    user.user_permissions.add(*Permission.objects.all())
    StaffStoreAccess.objects.create(user=user, store=worlds["A"]["store"])
    return user


@pytest.fixture
def client_a(client, user_a):
    client.force_login(user_a, backend=MODEL_BACKEND)
    return client


def b_object(worlds, model):
    return worlds["B"]["objects"][model]


def a_object(worlds, model):
    return worlds["A"]["objects"][model]


# The rule ------------------------------------------------------------------------------


def test_who_sees_which_store(worlds):
    store_a, store_b = worlds["A"]["store"], worlds["B"]["store"]
    nobody = UserFactory(username="nobody")
    assert store_ids_for(nobody) == frozenset()
    assert list(stores_for(nobody)) == []

    everywhere = UserFactory(username="everywhere")
    everywhere.user_permissions.add(Permission.objects.get(codename="view_all_stores"))
    assert store_ids_for(everywhere) is None
    assert set(stores_for(everywhere)) == set(Store.objects.all())

    limited = UserFactory(username="limited")
    limited.user_permissions.add(Permission.objects.get(codename="view_all_stores"))
    StaffStoreAccess.objects.create(user=limited, store=store_b)
    # Rows win over the permission: the user is limited to them.
    assert list(stores_for(limited)) == [store_b]

    boss = UserFactory(username="boss", is_superuser=True)
    StaffStoreAccess.objects.create(user=boss, store=store_a)
    assert store_ids_for(boss) is None

    gone = UserFactory(username="gone", is_active=False, is_superuser=True)
    assert store_ids_for(gone) == frozenset()
    assert store_ids_for(AnonymousUser()) == frozenset()


def test_the_scope_is_read_once_per_user_object(worlds, django_assert_num_queries):
    user = UserFactory(username="cached")
    StaffStoreAccess.objects.create(user=user, store=worlds["A"]["store"])
    with django_assert_num_queries(1):
        store_ids_for(user)
        store_ids_for(user)
    StaffStoreAccess.objects.create(user=user, store=worlds["B"]["store"])
    forget_store_scope(user)
    assert len(store_ids_for(user)) == 2


def test_the_migration_keeps_existing_staff_seeing_every_store():
    import importlib

    from django.apps import apps as global_apps
    from django.db import connection

    migration = importlib.import_module("rma.migrations.0006_staff_store_access")
    staff = UserFactory(username="old-hand")
    shopper_side = UserFactory(username="not-staff", is_staff=False)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.keep_existing_staff_reach(global_apps, editor)
    assert store_ids_for(type(staff).objects.get(pk=staff.pk)) is None
    assert store_ids_for(type(staff).objects.get(pk=shopper_side.pk)) == frozenset()


# Every admin ---------------------------------------------------------------------------


def test_every_store_bound_admin_is_scoped():
    unscoped = {
        model._meta.label
        for model, model_admin in REGISTRY.items()
        if not isinstance(model_admin, StoreScopedAdminMixin)
    }
    assert unscoped == UNSCOPED
    assert {model._meta.label for model in REGISTRY} - UNSCOPED == {
        model._meta.label for model in SCOPED
    }


def test_the_world_has_every_scoped_model(worlds):
    assert set(SCOPED) <= set(worlds["A"]["objects"])


def result_pks(response) -> set:
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("model", SCOPED, ids=lambda model: model._meta.label)
def test_changelist_lists_only_the_users_stores(client_a, worlds, model):
    response = client_a.get(reverse(admin_name(model, "changelist")))
    assert response.status_code == 200
    pks = result_pks(response)
    assert a_object(worlds, model).pk in pks
    assert b_object(worlds, model).pk not in pks
    # Nor is store B named anywhere on the page (filters, facets, links).
    assert "Shop BBB" not in response.content.decode()


SEARCHABLE = [model for model in SCOPED if REGISTRY[model].search_fields]


def test_most_admins_search():
    assert len(SEARCHABLE) >= len(SCOPED) - 1  # the webhook endpoints have no search box


@pytest.mark.parametrize("model", SEARCHABLE, ids=lambda model: model._meta.label)
def test_search_finds_nothing_of_another_store(client_a, worlds, model):
    url = reverse(admin_name(model, "changelist"))
    found_a = set()
    for term in worlds["A"]["terms"]:
        found_a |= result_pks(client_a.get(url, {"q": term}))
    for term in worlds["B"]["terms"]:
        response = client_a.get(url, {"q": term})
        assert response.status_code == 200
        assert b_object(worlds, model).pk not in result_pks(response), term
    # The search works: A's own row is found by one of A's terms.
    assert a_object(worlds, model).pk in found_a


@pytest.mark.parametrize("model", SCOPED, ids=lambda model: model._meta.label)
def test_change_and_history_of_another_store_answer_404(client_a, worlds, model):
    a_pk, b_pk = a_object(worlds, model).pk, b_object(worlds, model).pk
    for view in ("change", "history"):
        assert client_a.get(reverse(admin_name(model, view), args=[a_pk])).status_code == 200
        response = client_a.get(reverse(admin_name(model, view), args=[b_pk]))
        assert response.status_code == 404, view
    # Delete answers for B's object exactly as for an object that does not exist.
    missing = client_a.get(reverse(admin_name(model, "delete"), args=[999_999]))
    foreign = client_a.get(reverse(admin_name(model, "delete"), args=[b_pk]))
    assert foreign.status_code == missing.status_code
    assert foreign.status_code in (403, 404)


@pytest.mark.parametrize("model", SCOPED, ids=lambda model: model._meta.label)
def test_actions_do_nothing_to_another_stores_rows(client_a, worlds, model):
    target = b_object(worlds, model)
    before = model_to_dict(model.objects.get(pk=target.pk))
    url = reverse(admin_name(model, "changelist"))
    request = client_a.get(url).wsgi_request
    names = list(REGISTRY[model].get_actions(request))
    for name in names:
        response = client_a.post(
            url, {"action": name, ACTION_CHECKBOX_NAME: [str(target.pk)], "apply": "1"}
        )
        assert response.status_code in (200, 302), name
        body = b"" if response.streaming else response.content
        if response.streaming:
            body = b"".join(response.streaming_content)
        for term in worlds["B"]["terms"][:3]:
            assert term.encode() not in body, (name, term)
        assert model.objects.filter(pk=target.pk).exists(), name
        assert model_to_dict(model.objects.get(pk=target.pk)) == before, name


def custom_urls():
    for model in SCOPED:
        for pattern in REGISTRY[model].get_urls():
            name = pattern.name or ""
            prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
            if name.startswith(prefix) and name[len(prefix) :] in STANDARD_VIEWS:
                continue
            if not name or name.endswith("_autocomplete"):
                continue
            yield model, name, pattern


def test_every_custom_admin_url_is_covered():
    names = {name for _, name, _ in custom_urls()}
    with_object = {
        name for _, name, pattern in custom_urls() if "object_id" in str(pattern.pattern)
    }
    assert names == with_object | CUSTOM_WITHOUT_OBJECT
    # Each screen with an object has its arguments below (a new one fails here first).
    assert with_object <= set(CUSTOM_ARGUMENTS)


# Arguments of each custom screen beyond the object: B's rows where they name one.
CUSTOM_ARGUMENTS = {
    "rma_rma_operation": lambda world: {"name": "approve"},
    "rma_rma_photo": lambda world: {"photo_id": world["photo"].pk},
    "rma_order_override": lambda world: {"line_id": world["order_line"].pk},
    "rma_order_create_return": lambda world: {},
    "rma_store_policy": lambda world: {},
    "rma_store_policy_versions": lambda world: {},
    "rma_store_policy_rollback": lambda world: {"number": 1},
}


@pytest.mark.parametrize(
    "name", sorted({name for _, name, _ in custom_urls()} & set(CUSTOM_ARGUMENTS))
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_custom_screens_of_another_store_answer_404(client_a, worlds, name, method):
    model = next(model for model, url_name, _ in custom_urls() if url_name == name)
    for world, expected in ((worlds["B"], 404), (worlds["A"], None)):
        kwargs = {"object_id": world["objects"][model].pk, **CUSTOM_ARGUMENTS[name](world)}
        response = getattr(client_a, method)(reverse(f"admin:{name}", kwargs=kwargs))
        if expected:
            assert response.status_code == expected, (name, method)
        else:
            # The same screen of A's own object answers (the 404 above is the scoping).
            assert response.status_code != 404, (name, method)
    assert Rma.objects.get(pk=b_object(worlds, Rma).pk).status == RmaStatus.REQUESTED


def test_add_forms_offer_only_the_users_stores(client_a, worlds):
    for url in (
        reverse("admin:rma_webhookendpoint_add"),
        reverse("admin:rma_apikey_add"),
        reverse("admin:rma_staffstoreaccess_add"),
    ):
        page = client_a.get(url).content.decode()
        assert "Shop AAA" in page, url
        assert "Shop BBB" not in page, url


def test_posting_another_store_into_a_form_is_refused(client_a, worlds):
    store_b = worlds["B"]["store"]
    response = client_a.post(
        reverse("admin:rma_webhookendpoint_add"),
        {"store": store_b.pk, "url": "https://hooks.example/x", "active": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["store"]
    response = client_a.post(reverse("admin:rma_apikey_add"), {"store": store_b.pk, "name": "x"})
    assert "store" in response.context["form"].errors
    assert not ApiKey.objects.filter(store=store_b, name="x").exists()


# The dashboard and the export ----------------------------------------------------------


def test_dashboard_counts_only_the_users_stores(client_a, worlds):
    url = reverse("admin:rma_dashboard")
    data = client_a.get(url).context["data"]
    assert data.total_returns == 1
    assert [row["order_line__item_id"] for row in data.top_items] == ["ITEM-AAA"]
    # Asking for B is not a choice: the form says so and the figures stay A's.
    response = client_a.get(url, {"store": worlds["B"]["store"].pk})
    assert "store" in response.context["form"].errors
    assert response.context["data"].total_returns == 1
    assert "Shop BBB" not in response.content.decode()


def test_a_user_of_no_store_sees_an_empty_dashboard(client, worlds):
    user = UserFactory(username="newcomer")
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(user, backend=MODEL_BACKEND)
    data = client.get(reverse("admin:rma_dashboard")).context["data"]
    assert data.total_returns == 0
    assert data.top_items == []


def test_export_holds_only_the_users_stores(client_a, worlds):
    response = client_a.get(reverse("admin:rma_rma_export"))
    body = b"".join(response.streaming_content).decode()
    assert a_object(worlds, Rma).rma_number in body
    assert b_object(worlds, Rma).rma_number not in body
    forced = client_a.get(reverse("admin:rma_rma_export"), {"store": worlds["B"]["store"].pk})
    assert b_object(worlds, Rma).rma_number not in b"".join(forced.streaming_content).decode()


# The warehouse screens -----------------------------------------------------------------


def test_warehouse_treats_another_stores_return_as_unknown(client, worlds):
    user = UserFactory(username="dock-a")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["receive_rma", "resolve_rma"])
    )
    StaffStoreAccess.objects.create(user=user, store=worlds["A"]["store"])
    client.force_login(user, backend=MODEL_BACKEND)
    rma_b = b_object(worlds, Rma)
    Rma.objects.filter(pk=rma_b.pk).update(status=RmaStatus.AUTHORIZED)
    scan = client.post(reverse("warehouse:receive_scan"), {"rma_number": rma_b.rma_number})
    assert scan.status_code == 404
    assert "Authorized" not in scan.content.decode()
    receive = client.get(reverse("warehouse:receive", kwargs={"rma_number": rma_b.rma_number}))
    assert receive.status_code == 404
    Rma.objects.filter(pk=rma_b.pk).update(status=RmaStatus.RECEIVED)
    resolve = client.get(reverse("warehouse:resolve", kwargs={"rma_number": rma_b.rma_number}))
    assert resolve.status_code == 404
    post = client.post(reverse("warehouse:resolve", kwargs={"rma_number": rma_b.rma_number}), {})
    assert post.status_code == 404
    assert Rma.objects.get(pk=rma_b.pk).status == RmaStatus.RECEIVED
    # A's own return opens.
    rma_a = a_object(worlds, Rma)
    Rma.objects.filter(pk=rma_a.pk).update(status=RmaStatus.AUTHORIZED)
    own = client.get(reverse("warehouse:receive", kwargs={"rma_number": rma_a.rma_number}))
    assert own.status_code == 200


def test_every_warehouse_screen_is_covered():
    from rma.warehouse.urls import urlpatterns

    # The test above opens each of them with another store's return.
    assert {pattern.name for pattern in urlpatterns} == {"receive_scan", "receive", "resolve"}


def test_an_unscoped_admin_of_store_data_fails_the_start_up_check():
    from rma.admin.scoping import check_store_scoping, unscoped_admins

    assert check_store_scoping() == []
    site = admin.AdminSite(name="leaky")
    site.register(Rma)
    site.register(Store, REGISTRY[Store].__class__)
    assert unscoped_admins(site) == ["ModelAdmin (rma.Rma)"]
