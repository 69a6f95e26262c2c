"""A typical label request, shared by the adapter tests and bench/label_render.py."""

from labels.adapters import LabelRequest
from tests.factories import ADDRESS

SHOPPER_ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Elm St",
    "city": "Philadelphia",
    "state": "PA",
    "postal_code": "19103",
    "country": "US",
}


def label_request(**changes) -> LabelRequest:
    """From a shopper in Philadelphia to the store's warehouse; 2.4 lb."""
    fields = {
        "rma_number": "ABCD-EFGH-JKM2",
        "store_code": "TMSUS",
        "store_name": "The Model Store",
        "order_id": "3000179302",
        "from_address": dict(SHOPPER_ADDRESS),
        "to_address": dict(ADDRESS),
        "package": {"weight": "2.4", "weightUnit": "lb", "eligible": True, "ineligibility": []},
    }
    return LabelRequest(**{**fields, **changes})
