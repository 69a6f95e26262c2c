"""The label service interface: what an adapter is given, what it returns, how it fails."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


class LabelServiceError(Exception):
    """A label could not be issued."""


class TransientLabelError(LabelServiceError):
    """Worth retrying later: 5xx, timeouts, connection errors."""


class PermanentLabelError(LabelServiceError):
    """Retrying will not help: 4xx, a malformed response, a configuration error."""


@dataclass(frozen=True)
class LabelRequest:
    """Everything a label service needs, as plain data (no model instances).

    Addresses use the import format's keys: name, line1, line2, city, state,
    postal_code, country. `package` is the SPEC `packageInfo` object.
    """

    rma_number: str
    store_code: str
    store_name: str
    order_id: str
    from_address: dict
    to_address: dict
    package: dict = field(default_factory=dict)


@dataclass(frozen=True)
class IssuedLabel:
    carrier: str
    tracking_number: str
    # The label document; None only if a service returns no PDF (the caller refuses it).
    pdf: bytes | None
    # Where the service published the label, when it said so (informational).
    label_url: str = ""


class LabelService(abc.ABC):
    """One way of producing return labels, chosen by `settings.LABEL_SERVICE`."""

    # The `LABEL_SERVICE` value, also stored on each `ReturnLabel`.
    name: str = ""
    # False for a service that never issues labels (the RMA's label is NOT_REQUIRED).
    issues_labels: bool = True

    @abc.abstractmethod
    def issue(self, request: LabelRequest) -> IssuedLabel | None:
        """Issue one label, or raise `TransientLabelError` / `PermanentLabelError`."""
