"""API keys per store (docs/api.md): shown once, stored as a prefix and a SHA-256 hash.

A raw key is `rp_` + 8 random letters or digits (the stored prefix, to find the row)
+ 43 random URL-safe characters (256 bits). Only its SHA-256 is kept: the secret part
is random, so a slow password hash would add nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import string

from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone

from .models import ApiKey, Store
from .prepared import Prepared

KEY_MARK = "rp_"
PREFIX_LENGTH = len(KEY_MARK) + 8
# A key used again within this time keeps its last_used_at: no write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Compared against when no key matches, so a miss takes as long as a wrong secret.
_NO_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, store: Store, name: str) -> tuple[ApiKey, str]:
    """Create a key for `store`; returns the row and the raw key, which is never stored."""
    alphabet = string.ascii_letters + string.digits
    prefix = KEY_MARK + "".join(secrets.choice(alphabet) for _ in range(PREFIX_LENGTH - 3))
    raw_key = prefix + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(store=store, name=name, prefix=prefix, key_hash=_hash(raw_key))
    return api_key, raw_key


def stores_with_key(*, store_code: str, prefix: str) -> QuerySet[Store]:
    """The store with this code, its unrevoked key of this prefix left-joined as
    `matching_key` (for `accepted_key`)."""
    return (
        Store.objects.filter(code=store_code)
        .annotate(
            matching_key=FilteredRelation(
                "api_keys",
                condition=Q(api_keys__prefix=prefix, api_keys__revoked_at__isnull=True),
            )
        )
        .select_related("matching_key")
    )


# Compiled once per process (rma/prepared.py): every API request runs it.
_STORE_WITH_KEY = Prepared(
    lambda *, store_code, prefix: stores_with_key(store_code=store_code, prefix=prefix).order_by(
        "pk"
    )[:1],
    store_code=str,
    prefix=str,
)


def _well_formed(raw_key: str | None) -> bool:
    return isinstance(raw_key, str) and raw_key.startswith(KEY_MARK)


def key_prefix(raw_key: str | None) -> str:
    """What `stores_with_key` finds a raw key by: its prefix, or (for no key or a malformed
    one) a prefix no key has, since every stored one is PREFIX_LENGTH long."""
    return raw_key[:PREFIX_LENGTH] if _well_formed(raw_key) else ""


def accepted_key(store: Store, raw_key: str | None) -> ApiKey | None:
    """The key `stores_with_key` joined to `store` when `raw_key` is that key, its use
    recorded; None for a missing, wrong or revoked key and for another store's key, alike,
    after the same constant-time comparison."""
    # select_related sets the attribute only when the join found a key.
    api_key = getattr(store, "matching_key", None)
    expected = api_key.key_hash if api_key else _NO_KEY_HASH
    sent = raw_key if _well_formed(raw_key) else ""
    if not hmac.compare_digest(expected, _hash(sent)) or not api_key:
        return None
    _record_use(api_key)
    return api_key


def api_key_authenticate(
    *, store_code: str, raw_key: str | None
) -> tuple[Store | None, ApiKey | None]:
    """The store with this code and, when `raw_key` is one of its unrevoked keys, that key.

    One query whatever the caller sends: the store left-joined with its unrevoked key of
    the raw key's prefix (`stores_with_key`). The store is None for an unknown code,
    whatever the key (RMA 1002 comes first); the key is as `accepted_key` says.
    """
    found = _STORE_WITH_KEY.run(store_code=store_code, prefix=key_prefix(raw_key))
    if not found:
        return None, None
    return found[0], accepted_key(found[0], raw_key)


def _record_use(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests write at most once between them.
        ApiKey.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION),
            pk=api_key.pk,
        ).update(last_used_at=now)
        api_key.last_used_at = now


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first moment."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
