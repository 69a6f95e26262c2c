"""Store and order import (docs/import-format.md): validate a whole document, then upsert it.

- `schema` and `fields`: the format, read without queries, every problem collected;
- `upsert`: the database checks and the one-transaction bulk write;
- `export`: an order back in the format.
"""

from .export import order_document
from .upsert import ImportResult, ImportValidationError, import_document, import_order

__all__ = [
    "ImportResult",
    "ImportValidationError",
    "import_document",
    "import_order",
    "order_document",
]
