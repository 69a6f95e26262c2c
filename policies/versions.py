"""Recording policy versions and their diffs (no validation here: callers publish checked
documents). The import (`rma.importing.upsert`) and the editor both come through here."""

from __future__ import annotations

from policies.models import PolicySource, PolicyVersion

BRAND_FIELDS = ("brand_colour", "logo_url", "support_email")


def brand_of(store) -> dict:
    return {name: getattr(store, name) or "" for name in BRAND_FIELDS}


def policy_diff(before, after, path: str = "") -> list[dict]:
    """What changed between two documents, key by key (objects recursed, lists whole).

    Pure. Each change is `{"path": "policy.return_window_days", "before": 30, "after": 45}`;
    a key added has `before` None, a key removed `after` None.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            here = f"{path}.{key}" if path else str(key)
            changes.extend(policy_diff(before.get(key), after.get(key), here))
        return changes
    if before == after:
        return []
    return [{"path": path, "before": before, "after": after}]


def version_record(
    *,
    store,
    source: str,
    author=None,
    before: dict | None,
    restored_from: int | None = None,
    note: str = "",
) -> PolicyVersion | None:
    """Record the store's current policy and brand as its next version.

    `before`: `{"policy": ..., "brand": ...}` as they were, or None for a new store. None is
    returned (nothing recorded) when nothing changed. Call inside the transaction that
    wrote the store; the store row is locked here, so the number (the last one plus one)
    is never taken twice.
    """
    after = {"policy": store.policy or {}, "brand": brand_of(store)}
    diff = policy_diff(before or {}, after)
    if before is not None and not diff:
        return None
    # The store row's lock serialises numbering between the editor and an import.
    type(store).objects.select_for_update().filter(pk=store.pk).values_list("pk").get()
    numbers = PolicyVersion.objects.filter(store=store).order_by("-number")
    last = numbers.values_list("number", flat=True).first()
    return PolicyVersion.objects.create(
        store=store,
        number=(last or 0) + 1,
        policy=after["policy"],
        brand=after["brand"],
        author=author if getattr(author, "pk", None) else None,
        source=source,
        diff=diff,
        restored_from=restored_from,
        note=note,
    )


def snapshot(store) -> dict:
    """The store's policy and brand now, for `version_record(before=...)`."""
    return {"policy": dict(store.policy or {}), "brand": brand_of(store)}


__all__ = ["PolicySource", "brand_of", "policy_diff", "snapshot", "version_record"]
