"""Label service adapters (SPEC section 10): `builtin`, `http` and `none`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import (
    IssuedLabel,
    LabelRequest,
    LabelService,
    LabelServiceError,
    PermanentLabelError,
    TransientLabelError,
)

__all__ = [
    "IssuedLabel",
    "LabelRequest",
    "LabelService",
    "LabelServiceError",
    "PermanentLabelError",
    "TransientLabelError",
    "get_label_service",
]


def get_label_service() -> LabelService:
    """The adapter named by `settings.LABEL_SERVICE` (builtin, http or none)."""
    name = (settings.LABEL_SERVICE or "builtin").strip().lower()
    if name == "builtin":
        from .builtin import BuiltinLabelService

        return BuiltinLabelService()
    if name == "http":
        from .http import HttpLabelService

        return HttpLabelService.from_settings()
    if name == "none":
        from .none import NoLabelService

        return NoLabelService()
    raise ImproperlyConfigured(
        f"LABEL_SERVICE must be builtin, http or none, not {settings.LABEL_SERVICE!r}"
    )
