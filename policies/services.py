"""Writes of the merchant console: publish a policy, roll it back (docs/console.md).

The editor, the import and a rollback all leave a `PolicyVersion`; the document is checked
by the import's own reader (`rma.importing.schema.read_policy`), so the editor and the
import accept exactly the same policies and name a bad field the same way.
"""

from __future__ import annotations

from django.db import transaction

from rma.importing.fields import Problems
from rma.importing.schema import STORE, read_policy
from rma.models import Store

from .models import PolicySource, PolicyVersion
from .rules import unknown_destinations
from .versions import BRAND_FIELDS, snapshot, version_record


class PolicyInvalid(Exception):
    """A draft that cannot be published; `messages` name each bad field by its path."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


def policy_check(*, policy, brand: dict | None = None) -> tuple[dict, dict]:
    """The policy and brand as they would be stored, or `PolicyInvalid` naming every bad
    field (`policy.return_window_days: must be at least 0 (got -1)`). Pure."""
    problems = Problems()
    stored = read_policy(policy, "policy", problems)
    checked_brand = {}
    for name, value in (brand or {}).items():
        if name not in BRAND_FIELDS:
            problems.add(name, "is not a brand setting")
            continue
        checked_brand[name] = STORE[name].read(value, name, problems) if value else ""
    if problems:
        raise PolicyInvalid(problems.messages)
    return stored or {}, checked_brand


@transaction.atomic
def policy_publish(
    *,
    store: Store,
    policy: dict,
    author,
    brand: dict | None = None,
    source: str = PolicySource.EDITOR,
    note: str = "",
    restored_from: int | None = None,
) -> PolicyVersion | None:
    """Check and publish a store's policy (and brand), recording a version with its diff.

    Raises `PolicyInvalid` (nothing written) when a field is wrong. Returns None when the
    draft is the policy already published (no version, nothing written).
    """
    stored, checked_brand = policy_check(policy=policy, brand=brand)
    store = Store.objects.select_for_update().get(pk=store.pk)
    unknown = unknown_destinations(
        stored.get("rules"), store.suppliers.values_list("code", flat=True)
    )
    if unknown:
        raise PolicyInvalid(
            [
                f'policy.{path}: "{code}" is not STORE or a supplier of this store'
                for path, code in unknown
            ]
        )
    before = snapshot(store)
    store.policy = stored
    for name, value in checked_brand.items():
        setattr(store, name, value)
    version = version_record(
        store=store,
        source=source,
        author=author,
        before=before,
        restored_from=restored_from,
        note=note,
    )
    if version is None:
        return None
    store.save(update_fields=["policy", *checked_brand, "updated_at"])
    return version


@transaction.atomic
def policy_rollback(*, store: Store, number: int, author) -> PolicyVersion | None:
    """Publish again what version `number` of the store held (a new version, source ROLLBACK).

    The old document is checked again, as any published policy is. None when it is what the
    store has now.
    """
    version = PolicyVersion.objects.get(store=store, number=number)
    return policy_publish(
        store=store,
        policy=version.policy,
        brand=version.brand,
        author=author,
        source=PolicySource.ROLLBACK,
        restored_from=version.number,
        note=f"Rolled back to version {version.number}",
    )
