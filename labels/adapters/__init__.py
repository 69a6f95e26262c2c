"""Label service adapters: `builtin`, `http`, `none` and the carriers `easypost`, `shippo`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import (
    IssuedLabel,
    LabelRequest,
    LabelService,
    LabelServiceError,
    PermanentLabelError,
    RefundOutcome,
    TransientLabelError,
    VoidRequest,
)

__all__ = [
    "IssuedLabel",
    "LabelRequest",
    "LabelService",
    "LabelServiceError",
    "PermanentLabelError",
    "RefundOutcome",
    "TransientLabelError",
    "VoidRequest",
    "get_label_service",
    "label_service_named",
]


def get_label_service() -> LabelService:
    """The adapter named by `settings.LABEL_SERVICE` (builtin, http, none, easypost, shippo)."""
    return label_service_named(settings.LABEL_SERVICE)


def label_service_named(name: str) -> LabelService:
    """The adapter of that name (a label is refunded by the service that issued it)."""
    name = (name or "builtin").strip().lower()
    if name == "builtin":
        from .builtin import BuiltinLabelService

        return BuiltinLabelService()
    if name == "http":
        from .http import HttpLabelService

        return HttpLabelService.from_settings()
    if name == "none":
        from .none import NoLabelService

        return NoLabelService()
    if name == "easypost":
        from .easypost import EasyPostLabelService

        return EasyPostLabelService.from_settings()
    if name == "shippo":
        from .shippo import ShippoLabelService

        return ShippoLabelService.from_settings()
    raise ImproperlyConfigured(
        f"LABEL_SERVICE must be builtin, http, none, easypost or shippo, not {name!r}"
    )
