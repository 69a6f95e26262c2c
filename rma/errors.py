"""The project exception and the RMA error codes (docs/eligibility.md, docs/api.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

DESCRIPTIONS = {
    "RMA 1001": "Invalid XML Error",
    "RMA 1002": "Store Not Found",
    "RMA 1003": "Order Id Not Found",
    "RMA 1004": "Internal Server Error",
    "RMA 1005": "Matching Item Not Found",
    "RMA 1006": "Return Request is out of Return Window",
    "RMA 1007": "Requested return quantity allowed limit",
    "RMA 1008": "Current Order Status is not valid for Returns",
    "RMA 1009": "RMA Id not found while lookup",
    "RMA 1010": "Invoice amount more than allowed amount",
    "RMA 1011": "Weight can't be 0 or less than 0",
    "RMA 1012": "Weight exceeds limitations",
    "RMA 1013": "Dimensions of the package exceeds limitations",
    "RMA 1014": "Dimensional Weight of the package exceeds limitations",
    "RMA 1015": "Not a valid county for Returns",
    "RMA 1016": "Hazmat Item(s) not allowed for returns",
    "RMA 1017": "Customer State excluded for returns",
    "RMA 1018": "Invoice amount less than allowed amount",
    "RMA 1019": "Item excluded for returns",
    "RMA 1020": "Item department excluded from returns",
    "RMA 1021": "Order Id could not be found during lookup",
    "RMA 1022": "Transaction Id reused with a different request",
    # Exchanges (catalogue app): the item is unknown, of another product when the policy
    # does not allow that, out of stock, or dearer than what was paid. HTTP 422.
    "RMA 1023": "Exchange item not available",
    # A store rule (docs/console.md) blocks the line; a supervisor may override it.
    "RMA 1024": "Return blocked by store rule",
}


@dataclass(frozen=True)
class LineFailure:
    """One reason one requested line was refused."""

    line_number: int
    code: str

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.code]


@dataclass
class RmaError(Exception):
    """A refusal with its RMA error code; adapters map it to HTTP, a form error or a message.

    `items` lists every failing line of a refused request; `detail` is a human
    explanation for agents and logs (never shown instead of the code's description).
    """

    code: str
    items: list[LineFailure] = field(default_factory=list)
    detail: str = ""

    def __post_init__(self):
        super().__init__(self.code, self.detail or self.description)

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.code]


class TransitionError(Exception):
    """A status move that the lifecycle does not allow."""

    def __init__(self, *, rma_number: str, from_status: str, to_status: str):
        self.rma_number = rma_number
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(f"RMA {rma_number} cannot move from {from_status} to {to_status}")


class RequestError(Exception):
    """A request the shopper or caller must correct (unknown reason, resolution not offered, …).

    `field` names the input at fault so forms can tie the message to it.
    """

    def __init__(self, message: str, *, field: str = ""):
        self.message = message
        self.field = field
        super().__init__(message)
