"""Demo stores and orders that show every eligibility case (docs/eligibility.md).

`demo.json` is an import document (docs/import-format.md) whose timestamps are relative to
the moment it is loaded: "NOW" is now, "NOW-5d" five days ago, "NOW+1d" tomorrow. So
the demo always looks the same: the eligible orders stay inside their return window.
These orders have no RMAs; RMA 1007 shows once a line has been returned in full. The
stores' logos and the products' pictures are files under `static/`. `history.py` adds a
few weeks of other orders and returns in every status (the dashboard's and timelines').
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from django.utils import timezone

from rma.importing import ImportResult, import_document

DEMO_FILE = Path(__file__).with_name("demo.json")
RELATIVE_MOMENT = re.compile(r"NOW(?:([+-]\d+)d)?")

# What each demo order shows, by order number, in the order of the document.
DEMO_NOTES = {
    "3000179302": "eligible: 3 lines; line 3 is dropship (returns to supplier ACME); "
    "reasons DEFECTIVE (photo) and NOT_AS_DESCRIBED (review + photo)",
    "3000179310": "RMA 1006 on line 1 (delivered 45 days ago); line 2 delivered later is eligible",
    "3000179320": "eligible, quantity 1: return it once, look it up again: RMA 1007",
    "3000179330": "RMA 1008: status PROCESSING",
    "3000179340": "RMA 1015: shipped to Canada (US only)",
    "3000179350": "RMA 1016 on line 1 (hazmat power bank); line 2 eligible",
    "3000179360": "RMA 1017: shipped to Hawaii (HI excluded)",
    "3000179370": "RMA 1019: line 1 final sale, line 2 excluded item; line 3 eligible",
    "3000179380": "RMA 1020: gift cards; line 2 also 1019 (GC-50 excluded); line 3 eligible",
    "3000179390": "RMA 1024 on line 1 (store rule: showroom samples); line 2 eligible",
    "DE-100234": "eligible (EUR, kg/cm); line 3 RMA 1020 (Gutscheine)",
    "DE-100250": "RMA 1006 after 14 days here (20 days: in the US store's window)",
}


def _resolve(value, now: dt.datetime):
    """Every "NOW±Nd" string in `value` as an ISO 8601 timestamp relative to `now`."""
    if isinstance(value, dict):
        return {key: _resolve(item, now) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, now) for item in value]
    if isinstance(value, str) and (match := RELATIVE_MOMENT.fullmatch(value)):
        return (now + dt.timedelta(days=int(match.group(1) or 0))).isoformat()
    return value


def demo_document(*, now: dt.datetime | None = None) -> dict:
    """The demo import document with its timestamps made absolute."""
    document = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return _resolve(document, now or timezone.now())


def load_demo(*, now: dt.datetime | None = None) -> ImportResult:
    """Import (or refresh) the demo stores and orders; running it again is harmless."""
    return import_document(demo_document(now=now))


def demo_rows(document: dict) -> list[tuple[str, str, str, str, str]]:
    """(store, order number, email, postcode, what it shows) for each demo order."""
    return [
        (
            order["store"],
            order["order_id"],
            order["customer"]["email"],
            order["shipping_address"]["postal_code"],
            DEMO_NOTES.get(order["order_id"], ""),
        )
        for order in document["orders"]
    ]
