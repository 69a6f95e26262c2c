"""Importing: the checks that need the database, then one transaction of upserts.

Everything is read in bulk (a few queries per 500 orders, none per line) and, when the
document is valid, written with bulk inserts and updates keyed by the natural keys:
store code, (store, supplier code), (store, order id), (order, line number).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Prefetch
from django.utils import timezone

from policies.rules import unknown_destinations
from policies.versions import PolicySource, snapshot, version_record
from rma.models import Order, OrderLine, Store, Supplier
from rma.selectors import held_quantity_expression

from .fields import Problems
from .schema import Document, OrderRow, read_document, read_order

BATCH_SIZE = 500
ORDER_FIELDS = (
    "status",
    "placed_at",
    "shipped_at",
    "delivered_at",
    "customer_email",
    "customer_name",
    "customer_tags",
    "shipping_address",
    "payment_provider",
    "payment_intent",
)
LINE_FIELDS = (
    "item_id",
    "title",
    "department",
    "quantity",
    "unit_price",
    "weight",
    "length",
    "width",
    "height",
    "hazmat",
    "final_sale",
    "delivered_at",
    "supplier",
    "image_url",
    "discount",
    "tax",
)
# Compared and set by attribute name, so a line's supplier is never fetched to compare it.
LINE_ATTNAMES = tuple(OrderLine._meta.get_field(name).attname for name in LINE_FIELDS)


class ImportValidationError(Exception):
    """The document is refused and nothing was changed; `errors` lists every problem."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        shown = "; ".join(self.errors[:3]) + ("; …" if len(self.errors) > 3 else "")
        super().__init__(f"{len(self.errors)} error(s) in the import: {shown}")


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    # Rows that exist and that the document leaves as they are: not written.
    unchanged: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return counts + (f", {self.deleted} deleted" if self.deleted else "")


@dataclass
class ImportResult:
    """What an import did, per kind of row."""

    stores: Tally = field(default_factory=Tally)
    suppliers: Tally = field(default_factory=Tally)
    orders: Tally = field(default_factory=Tally)
    lines: Tally = field(default_factory=Tally)
    # The stores' catalogues (`catalogue.importing`), when the document has products.
    products: Tally | None = None
    variants: Tally | None = None
    # Things done differently from what the document says, e.g. lines kept for their RMAs.
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds = ("stores", "suppliers", "orders", "lines", "products", "variants")
        return "\n".join(
            f"{kind}: {getattr(self, kind)}" for kind in kinds if getattr(self, kind) is not None
        )


def import_document(document) -> ImportResult:
    """Validate an import document (docs/import-format.md) and upsert it, all or nothing.

    Raises `ImportValidationError` listing every problem of the document; then nothing
    is written.
    """
    problems = Problems()
    return _import(read_document(document, problems), problems)


def import_order(*, store: Store, order_id: str, data) -> tuple[Order, bool]:
    """Upsert one order object of the import format for `store` (the HTTP endpoint).

    `store` and `order_id` come from the URL; the body may repeat them but must agree.
    Returns the order with its lines and whether it was created.
    """
    problems = Problems()
    if isinstance(data, dict):
        for key, expected in (("store", store.code), ("order_id", order_id)):
            if data.get(key) not in (None, expected):
                problems.add(
                    f"order.{key}", f'"{data[key]}" does not match "{expected}" in the URL'
                )
        data = {**data, "store": store.code, "order_id": order_id}
    row = read_order(data, "order", problems)
    result = _import(Document(stores=[], orders=[row] if row else []), problems)
    order = (
        Order.objects.select_related("store")
        .prefetch_related(Prefetch("lines", OrderLine.objects.select_related("supplier")))
        .get(store=store, order_id=order_id)
    )
    return order, result.orders.created == 1


def _import(document: Document, problems: Problems) -> ImportResult:
    with transaction.atomic():
        # Lock existing orders only when the document may be written: the RMA request
        # service locks the order too, so no RMA can take a line that we shrink.
        existing = _Existing.load(document, lock=not problems)
        existing.check(document, problems)
        catalogue = _catalogue(document, existing, lock=not problems)
        if catalogue:
            catalogue.check(problems)
        if problems:
            raise ImportValidationError(problems.messages)
        result = existing.write(document)
        if catalogue:
            catalogue.write(existing.stores)
            result.products, result.variants = catalogue.products_tally, catalogue.variants_tally
            result.warnings.extend(catalogue.warnings)
        return result


def _catalogue(document: Document, existing: _Existing, *, lock: bool):
    """The stores' products, loaded for checking; None when there are none."""
    rows = [row for row in document.stores if row.products]
    if not rows:
        return None
    # Imported here: the catalogue app builds on this package.
    from catalogue.importing import CatalogueImport, StoreProducts

    return CatalogueImport.load(
        [StoreProducts(store_code=row.code, products=row.products) for row in rows],
        stores=existing.stores,
        lock=lock,
    )


def assign_changed(instance, fields: dict) -> bool:
    """Set the fields that differ; whether any did (so unchanged rows are not written)."""
    changed = False
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _save_one(instance, model, keys: dict, fields: dict, tally: Tally):
    """Create a store or supplier, or save the fields that changed."""
    if instance is None:
        tally.created += 1
        return model.objects.create(**keys, **fields)
    if assign_changed(instance, fields):
        tally.updated += 1
        instance.save()
    else:
        tally.unchanged += 1
    return instance


def in_chunks(items: list, size: int = BATCH_SIZE):
    """`items` in lists of at most `size` (for queries with many parameters)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Existing:
    """The rows a document touches as they are in the database."""

    stores: dict[str, Store]
    suppliers: dict[tuple[str, str], Supplier]
    orders: dict[tuple[str, str], Order]
    # Per order pk and line number, annotated with `held_quantity` and `rma_line_count`.
    lines: dict[int, dict[int, OrderLine]]

    @classmethod
    def load(cls, document: Document, *, lock: bool) -> _Existing:
        codes = {row.code for row in document.stores} | {
            row.store_code for row in document.orders if row.store_code
        }
        stores = {store.code: store for store in Store.objects.filter(code__in=codes)}
        suppliers = {
            (supplier.store.code, supplier.code): supplier
            for supplier in Supplier.objects.filter(store__in=stores.values()).select_related(
                "store"
            )
        }
        order_ids = defaultdict(set)
        for row in document.orders:
            if row.store_code in stores and row.order_id:
                order_ids[row.store_code].add(row.order_id)
        orders = {}
        for code in sorted(order_ids):
            for chunk in in_chunks(sorted(order_ids[code])):
                queryset = Order.objects.filter(store=stores[code], order_id__in=chunk)
                if lock:
                    queryset = queryset.select_for_update()
                for order in queryset.order_by("pk"):
                    orders[(code, order.order_id)] = order
        lines = defaultdict(dict)
        for chunk in in_chunks([order.pk for order in orders.values()]):
            queryset = OrderLine.objects.filter(order_id__in=chunk).annotate(
                held_quantity=held_quantity_expression(), rma_line_count=Count("rma_lines")
            )
            for line in queryset:
                lines[line.order_id][line.line_number] = line
        return cls(stores=stores, suppliers=suppliers, orders=orders, lines=lines)

    def check(self, document: Document, problems: Problems) -> None:
        """Stores and suppliers must exist; lines held by active RMAs must stay."""
        known_stores = set(self.stores) | {row.code for row in document.stores}
        known_suppliers = set(self.suppliers) | {
            (row.code, supplier["code"]) for row in document.stores for supplier in row.suppliers
        }
        for row in document.stores:
            # A store rule may route returns to the store or one of its suppliers only.
            codes = {code for store, code in known_suppliers if store == row.code}
            for path, code in unknown_destinations(row.fields["policy"].get("rules"), codes):
                message = f'"{code}" is not STORE or a supplier of the store'
                problems.add(f"{row.where}.policy.{path}", message)
        for row in document.orders:
            if row.store_code and row.store_code not in known_stores:
                row.problem(problems, f'unknown store "{row.store_code}"', "store")
                continue
            for index, line in enumerate(row.lines):
                code = (line or {}).get("supplier")
                if code and (row.store_code, code) not in known_suppliers:
                    row.problem(
                        problems,
                        f'unknown supplier "{code}" for store "{row.store_code}"',
                        f"lines[{index}].supplier",
                    )
            self._check_held_lines(row, problems)

    def _check_held_lines(self, row: OrderRow, problems: Problems) -> None:
        order = self.orders.get((row.store_code, row.order_id))
        if order is None:
            return
        quantities = {
            line["line_number"]: (index, line["quantity"])
            for index, line in enumerate(row.lines)
            if line is not None
        }
        for number, line in sorted(self.lines[order.pk].items()):
            held = line.held_quantity
            if not held:
                continue
            if number not in quantities:
                row.problem(
                    problems,
                    f"line {number} cannot be removed: active RMAs hold {held} of it",
                    "lines",
                )
                continue
            index, quantity = quantities[number]
            if quantity is not None and quantity < held:
                row.problem(
                    problems,
                    f"line {number} cannot go down to {quantity}: active RMAs hold {held} of it",
                    f"lines[{index}].quantity",
                )

    def write(self, document: Document) -> ImportResult:
        result = ImportResult()
        for row in document.stores:
            store = self.stores.get(row.code)
            before = None if store is None else snapshot(store)
            self.stores[row.code] = _save_one(
                store, Store, {"code": row.code}, row.fields, result.stores
            )
            # Every change of a policy or brand is a version (docs/console.md), imports too.
            version_record(store=self.stores[row.code], source=PolicySource.IMPORT, before=before)
            for supplier in row.suppliers:
                fields = dict(supplier)
                code = fields.pop("code")
                _save_one(
                    self.suppliers.get((row.code, code)),
                    Supplier,
                    {"store": self.stores[row.code], "code": code},
                    fields,
                    result.suppliers,
                )
        orders = self._write_orders(document, result)
        self._write_lines(orders, result)
        return result

    def _write_orders(self, document: Document, result: ImportResult):
        now = timezone.now()
        created, updated, pairs = [], [], []
        for row in document.orders:
            order = self.orders.get((row.store_code, row.order_id))
            if order is None:
                store = self.stores[row.store_code]
                order = Order(store=store, order_id=row.order_id, **row.fields)
                created.append(order)
            elif assign_changed(order, row.fields):
                # bulk_update() does not apply auto_now.
                order.updated_at = now
                updated.append(order)
            else:
                result.orders.unchanged += 1
            pairs.append((row, order))
        Order.objects.bulk_create(created, batch_size=BATCH_SIZE)
        Order.objects.bulk_update(updated, [*ORDER_FIELDS, "updated_at"], batch_size=BATCH_SIZE)
        result.orders.created += len(created)
        result.orders.updated += len(updated)
        return pairs

    def _write_lines(self, pairs: list[tuple[OrderRow, Order]], result: ImportResult) -> None:
        store_ids = {order.store_id for _, order in pairs}
        supplier_ids = {
            (store_id, code): pk
            for store_id, code, pk in Supplier.objects.filter(store_id__in=store_ids).values_list(
                "store_id", "code", "pk"
            )
        }
        created, updated, removed = [], [], []
        for row, order in pairs:
            current = dict(self.lines.get(order.pk, {}))
            for data in row.lines:
                fields = dict(data)
                code = fields.pop("supplier")
                fields["supplier_id"] = supplier_ids[(order.store_id, code)] if code else None
                line = current.pop(fields["line_number"], None)
                if line is None:
                    created.append(OrderLine(order=order, **fields))
                elif assign_changed(line, {name: fields[name] for name in LINE_ATTNAMES}):
                    updated.append(line)
                else:
                    result.lines.unchanged += 1
            for number, line in sorted(current.items()):
                if line.rma_line_count:
                    result.warnings.append(
                        f"{row.where}: line {number} is not in the import but is kept because"
                        f" RMAs refer to it ({row.label})"
                    )
                else:
                    removed.append(line.pk)
        for chunk in in_chunks(removed):
            OrderLine.objects.filter(pk__in=chunk).delete()
        OrderLine.objects.bulk_create(created, batch_size=BATCH_SIZE)
        OrderLine.objects.bulk_update(updated, LINE_FIELDS, batch_size=BATCH_SIZE)
        result.lines.created += len(created)
        result.lines.updated += len(updated)
        result.lines.deleted += len(removed)
