"""`LABEL_SERVICE=none`: no labels; the shopper ships at their own cost."""

from __future__ import annotations

from .base import LabelRequest, LabelService


class NoLabelService(LabelService):
    name = "none"
    issues_labels = False

    def issue(self, request: LabelRequest) -> None:
        """Never a label: the RMA's label status is NOT_REQUIRED."""
        return None
