"""Staff per store: which stores a user may see, applied to every admin screen.

The rule (docs/decisions.md, "Staff per store"):

- a superuser sees every store;
- a user with `StaffStoreAccess` rows sees exactly those stores;
- a user without rows sees every store with the `rma.view_all_stores` permission, else none.

Every admin of a model that belongs to a store takes `StoreScopedAdminMixin`: its lists,
search, filters, change/history/delete pages, actions, exports and form choices then hold
only the user's stores, and another store's object answers 404 exactly as a missing one
does (no 403, nothing that says it exists). Custom views use `scope_queryset` /
`get_object_in_scope_or_404` with the same rule.
"""

from __future__ import annotations

from collections import deque
from contextlib import suppress
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import SimpleTemplateResponse
from django.utils import timezone

from rma.models import StaffStoreAccess, Store

VIEW_ALL_STORES = "rma.view_all_stores"
_CACHE_ATTRIBUTE = "_rma_store_scope"
# How many foreign keys away from a model its store may be (RmaPhoto → line → RMA → store).
_MAX_DEPTH = 4


def store_ids_for(user) -> frozenset[int] | None:
    """The ids of the stores `user` may see; None means every store.

    Read once per user object (a request's user), so a page asks the database once.
    """
    cached = getattr(user, _CACHE_ATTRIBUTE, False)
    if cached is not False:
        return cached
    scope = _store_scope(user)
    with suppress(AttributeError):  # an object that takes no attributes: read each time
        setattr(user, _CACHE_ATTRIBUTE, scope)
    return scope


def _store_scope(user) -> frozenset[int] | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    rows = frozenset(StaffStoreAccess.objects.filter(user=user).values_list("store_id", flat=True))
    if rows:
        return rows
    return None if user.has_perm(VIEW_ALL_STORES) else frozenset()


def forget_store_scope(user) -> None:
    """Drop the cached scope, e.g. after changing a user's stores within a request."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def sees_every_store(user) -> bool:
    return store_ids_for(user) is None


def stores_for(user) -> QuerySet[Store]:
    """The stores `user` may see (every store, some or none), ordered by code."""
    return scope_queryset(Store.objects.order_by("code"), user, "pk")


def may_see_store(user, store_id: int | None) -> bool:
    scope = store_ids_for(user)
    return scope is None or store_id in scope


@cache
def store_path_of(model) -> str | None:
    """The lookup path from `model` to its store ("pk" for Store itself), or None.

    Follows non-null foreign keys first (breadth first, in field order), so a delivery's
    store is its endpoint's, not its optional RMA's.
    """
    if model is Store:
        return "pk"
    queue = deque([(model, "", 0)])
    seen = {model}
    while queue:
        current, prefix, depth = queue.popleft()
        if depth >= _MAX_DEPTH:
            continue
        fields = [
            field
            for field in current._meta.get_fields()
            if isinstance(field, models.ForeignKey | models.OneToOneField) and field.concrete
        ]
        fields.sort(key=lambda field: field.null)  # required links first, stable otherwise
        for field in fields:
            path = f"{prefix}{field.name}"
            if field.related_model is Store:
                return path
        for field in fields:
            related = field.related_model
            if related not in seen:
                seen.add(related)
                queue.append((related, f"{prefix}{field.name}__", depth + 1))
    return None


def scope_queryset(queryset: QuerySet, user, store_path=None) -> QuerySet:
    """`queryset` limited to the stores of `user` (unchanged for a user who sees every store).

    `store_path`: the lookup to the store, or a tuple of lookups for rows that reach their
    store one way or another (an email about an RMA or about an order): any of them may match.
    """
    path = store_path or store_path_of(queryset.model)
    if path is None:
        raise ValueError(f"{queryset.model.__name__} does not belong to a store")
    scope = store_ids_for(user)
    if scope is None:
        return queryset
    if not scope:
        return queryset.none()
    paths = path if isinstance(path, tuple) else (path,)
    condition = Q()
    for each in paths:
        condition |= Q(**{f"{each}__in": sorted(scope)})
    return queryset.filter(condition)


def get_object_in_scope_or_404(queryset: QuerySet, user, store_path: str | None = None, **lookup):
    """`get_object_or_404` within the user's stores: another store's object is just missing."""
    return get_object_or_404(scope_queryset(queryset, user, store_path), **lookup)


def limit_formfield_choices(formfield, user):
    """A choice field over a store-bound model offers only the user's stores' rows."""
    queryset = getattr(formfield, "queryset", None)
    if isinstance(queryset, QuerySet) and store_path_of(queryset.model) is not None:
        formfield.queryset = scope_queryset(queryset, user)
    return formfield


class StoreListFilter(admin.RelatedFieldListFilter):
    """The store filter lists only the user's stores (never another store's name)."""

    def field_choices(self, field, request, model_admin):
        return [(store.pk, str(store)) for store in stores_for(request.user)]


def _is_store_relation(model, path: str) -> bool:
    try:
        fields = get_fields_from_path(model, path)
    except (FieldDoesNotExist, NotRelationField):
        return False
    return getattr(fields[-1], "related_model", None) is Store


class StoreScopedAdminMixin:
    """Limit a ModelAdmin to the stores of `request.user`; see the module docstring.

    `store_path` is the lookup to the store; by default it is found from the model's
    foreign keys (`store_path_of`).
    """

    store_path: str | tuple[str, ...] | None = None

    def get_store_path(self) -> str | tuple[str, ...]:
        path = self.store_path or store_path_of(self.model)
        if path is None:
            raise ValueError(f"{self.model.__name__} does not belong to a store")
        return path

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, self.get_store_path())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return limit_formfield_choices(formfield, request.user) if formfield else formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        return limit_formfield_choices(formfield, request.user) if formfield else formfield

    def get_list_filter(self, request):
        return [
            (entry, StoreListFilter)
            if isinstance(entry, str) and _is_store_relation(self.model, entry)
            else entry
            for entry in super().get_list_filter(request)
        ]

    # An object's pages show its times in its store's time zone ---------------------------

    def store_timezone(self, request, object_id) -> ZoneInfo | None:
        """The time zone of the object's store (one small query), or None."""
        paths = self.get_store_path()
        paths = paths if isinstance(paths, tuple) else (paths,)
        fields = ["timezone" if path == "pk" else f"{path}__timezone" for path in paths]
        try:
            row = self.get_queryset(request).filter(pk=object_id).values_list(*fields).first()
            name = next((name for name in row or () if name), None)
            return ZoneInfo(name) if name else None
        except (ValueError, ValidationError, ZoneInfoNotFoundError):
            return None

    def _in_store_timezone(self, request, object_id, view, extra_context):
        zone = self.store_timezone(request, object_id)
        if zone is None:
            return view(extra_context)
        context = {**(extra_context or {}), "store_timezone": zone.key}
        with timezone.override(zone):
            response = view(context)
            # Render now: a TemplateResponse would render after the override ended.
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._in_store_timezone(
            request,
            object_id,
            lambda context: super(StoreScopedAdminMixin, self).change_view(
                request, object_id, form_url, context
            ),
            extra_context,
        )

    def history_view(self, request, object_id, extra_context=None):
        return self._in_store_timezone(
            request,
            object_id,
            lambda context: super(StoreScopedAdminMixin, self).history_view(
                request, object_id, context
            ),
            extra_context,
        )

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "does not exist"; another store's object must
        # look exactly like a missing one, and a plain 404 says the least.
        raise Http404


def unscoped_admins(site=admin.site) -> list[str]:
    """Admins on `site` that show a store-bound model without the mixin (a leak)."""
    return sorted(
        f"{type(model_admin).__name__} ({model._meta.label})"
        for model, model_admin in site._registry.items()
        if store_path_of(model) is not None and not isinstance(model_admin, StoreScopedAdminMixin)
    )


@checks.register(checks.Tags.admin)
def check_store_scoping(app_configs=None, **kwargs):
    """Start-up check: every admin of a store-bound model keeps to the user's stores."""
    return [
        checks.Error(
            f"{name} shows rows of a store without StoreScopedAdminMixin: every staff "
            "user would see every store's rows.",
            hint="Add rma.admin.scoping.StoreScopedAdminMixin to the admin's bases.",
            id="rma.E101",
        )
        for name in unscoped_admins()
    ]
