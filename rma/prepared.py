"""Querysets compiled once per process, run again with new values.

Building a queryset (annotations resolved, joins set up) and compiling it to SQL costs
Django more than PostgreSQL spends running the statement: for checkEligibility at 100
lines, about a third of the ORM's time went to building and compiling the same two
statements on every request (bench/results.md, "Where the time goes"). A `Prepared`
query is built and compiled the first time a thread uses it, with placeholder values;
later runs put the real values in the compiled statement's parameters and run it on a
cursor of their own (through the connection's execute wrappers, as the ORM does).

On PostgreSQL that cursor binds the values on the server and has the statement
prepared on its first run in a connection (psycopg keeps it; `DB_PREPARED_STATEMENTS`,
returns_portal/database.py): PostgreSQL plans it once and reuses a generic plan, where
it used to plan it on every request. Planning checkEligibility's two statements took
longer than running them: at 100 lines the request went from 2.67 to 1.98 ms in-process,
at 1 line from 1.51 to 0.81 ms. A statement must be one PostgreSQL can prepare (Django
can put a parameter in a GROUP BY that a prepared statement cannot match; none here).

The rows become instances the way Django's `ModelIterable` makes them (the fields'
converters, `from_db`, select_related, annotations), without its per-row overhead: a
model whose instances need nothing but their fields' values (no `__init__` or `from_db`
of its own, no `pre_init`/`post_init` receivers, plain field attributes) is instantiated
with `__new__` and its values put in the instance's `__dict__`, which is what
`Model.__init__` ends up doing for a row. At 100 order lines this took checkEligibility's
line reading from 1.4 to 0.96 ms in-process, of which about 0.65 ms is PostgreSQL's. Any
other model, or a queryset Django reads specially (prefetch, known related objects,
composite fields, `values()`), is read through `ModelIterable` itself.

Only for querysets whose SQL shape does not depend on the values: equality filters on
values that are never None (a None would compile to `IS NULL`), no `IN` lists, no
prefetch (fetch related rows with a prepared query of their own). A run with a value
that does not fit the placeholder's type, or a statement in which a placeholder cannot
be found once, falls back to building the queryset normally.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Model, QuerySet, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute

# Values no constant of our statements has, to find each one's place in the parameters:
# positive (a PositiveIntegerField refuses negatives at compile time) and within 32 bits
# (an out-of-range value compiles to an empty result).
_INT_MARK = 2_141_592_653
_STR_MARK = "\x1fprepared-value-{}\x1f"
# Field descriptors that keep a loaded value in the instance's __dict__ and nothing else.
_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


@dataclass
class _Compiled:
    queryset: QuerySet
    compiler: object
    sql: str
    params: tuple
    places: dict[str, int]  # value name -> index in params
    # Column position -> (converter functions, expression), as the compiler applies them.
    converters: list[tuple[int, tuple[list, object]]]
    # Builds the row's instance; None when the row goes through ModelIterable.
    instance: Callable[[list], Model] | None


class Prepared:
    """`build(**values)` returns the queryset; `run(**values)` returns its instances."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: type):
        self.build = build
        self.kinds = kinds  # value name -> int or str
        self._local = threading.local()

    def _marks(self) -> dict[str, object]:
        return {
            name: (_INT_MARK - index if kind is int else _STR_MARK.format(index))
            for index, (name, kind) in enumerate(self.kinds.items())
        }

    def _compiled(self, using: str) -> _Compiled | None:
        cache = self._local.__dict__.setdefault("compiled", {})
        if using not in cache:
            cache[using] = self._compile(using)
        return cache[using]

    def _compile(self, using: str) -> _Compiled | None:
        marks = self._marks()
        queryset = self.build(**marks).using(using)
        compiler = queryset.query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            return None  # decided by its values: build it every time
        places = {}
        for name, mark in marks.items():
            found = [index for index, param in enumerate(params) if param == mark]
            if len(found) != 1:
                return None  # shaped by its values: build it every time
            places[name] = found[0]
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        return _Compiled(
            queryset,
            compiler,
            sql,
            tuple(params),
            places,
            converters=list(compiler.get_converters(columns).items()),
            instance=_instance_builder(queryset, compiler),
        )

    def run(self, *, using: str = "default", **values) -> list:
        compiled = self._compiled(using)
        fits = all(type(values[name]) is kind for name, kind in self.kinds.items())
        if compiled is None or not fits:
            return list(self.build(**values).using(using))
        params = list(compiled.params)
        for name, index in compiled.places.items():
            params[index] = values[name]
        if compiled.instance is None:
            return _through_model_iterable(compiled, using, tuple(params))
        connection = connections[using]
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = _converted(rows, compiled.converters, connection)
        return [compiled.instance(row) for row in rows]


def insert(objs: Sequence[Model], *, using: str = "default") -> list[Model]:
    """New instances of one model inserted in one statement, as `bulk_create` inserts them
    (each field's `pre_save`, e.g. `auto_now_add`, and its database value; the primary
    keys set from `RETURNING`), on a cursor that binds the values on the server and has
    the statement prepared, as `Prepared.run`'s does. Returns `objs`.

    Django compiles an insert anew each time and binds its values into the SQL text on
    the client: for generateRMA's five inserts (the RMA, its lines, events, email and
    idempotency row) that cost more than PostgreSQL's work on them. No signals are sent
    (as with `bulk_create`); every value must be a value, not an expression.
    """
    if not objs:
        return []
    model = type(objs[0])
    connection = connections[using]
    fields = _insert_fields(model)
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        params += [
            field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields
        ]
    with _cursor(connection) as cursor:
        cursor.execute(_insert_sql(model, len(objs), using), params)
        keys = cursor.fetchall()
    for obj, (key,) in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding, obj._state.db = False, using
    return list(objs)


def _insert_fields(model: type[Model]) -> list:
    """The columns an insert writes: every concrete one but an auto-incremented key."""
    return [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]


@functools.lru_cache(maxsize=256)
def _insert_sql(model: type[Model], rows: int, using: str) -> str:
    """`INSERT … VALUES (…), … RETURNING pk` for `rows` rows of `model`, once per process."""
    quote = connections[using].ops.quote_name
    columns = ", ".join(quote(field.column) for field in _insert_fields(model))
    row = "({})".format(", ".join(["%s"] * len(_insert_fields(model))))
    # Names from the model's own metadata, quoted; every value is a parameter.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(model._meta.pk.column)}"
    )


def _converted(rows, converters, connection):
    """The rows with each column's converters applied, as `SQLCompiler.apply_converters`."""
    for row in rows:
        row = list(row)
        for position, (functions, expression) in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        yield row


class _PreparingCursor(psycopg.Cursor):
    """Binds its parameters on the server and has PostgreSQL prepare each statement on its
    first run; psycopg keeps the prepared statements per connection."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True, **kwargs)


def _cursor(connection):
    """A cursor that prepares, where the database's OPTIONS allow prepared statements
    (`prepare_threshold`), wrapped as Django wraps its own (execute wrappers, database
    errors): PostgreSQL then plans each statement once per connection. Django's own
    cursors bind on the client and never prepare.

    Django's cursor while Django logs queries (DEBUG, tests counting queries): its log
    reads the SQL with its values from a cursor that binds on the client.
    """
    if (
        connection.vendor != "postgresql"
        or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None
        or connection.queries_logged
    ):
        return connection.cursor()
    # What connection.cursor() does, around another kind of cursor.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        return connection.make_cursor(_PreparingCursor(connection.connection))


def _through_model_iterable(compiled: _Compiled, using: str, params: tuple) -> list:
    """The compiled statement's rows read by the queryset itself."""
    replay = copy.copy(compiled.compiler)
    replay.connection = connections[using]
    replay.as_sql = lambda *args, **kwargs: (compiled.sql, params)
    queryset = compiled.queryset._chain()
    queryset.query.get_compiler = lambda *args, **kwargs: replay
    return list(queryset)


def _instance_builder(queryset: QuerySet, compiler) -> Callable[[list], Model] | None:
    """A function from a converted row to the instance `ModelIterable` would make of it,
    with its select_related instances and annotations; None if it would do more."""
    plain_read = (
        queryset._iterable_class is ModelIterable
        and not queryset._prefetch_related_lookups
        and not queryset._known_related_objects
        and not compiler.has_composite_fields([column[0] for column in compiler.select])
    )
    build = plain_read and _model_builder(compiler.klass_info, compiler.select, queryset.db)
    if not build:
        return None
    annotations = list(compiler.annotation_col_map.items())

    def instance(row):
        obj = build(row)
        for name, position in annotations:
            setattr(obj, name, row[position])
        return obj

    return instance


def _model_builder(klass_info: dict, select: list, db: str):
    """`from_db` and `RelatedPopulator.populate` for one model of the row, or None when
    its instances need more than their fields' values."""
    model = klass_info["model"]
    positions = klass_info["select_fields"]
    start, end = positions[0], positions[-1] + 1
    attnames = [column[0].target.attname for column in select[start:end]]
    if (
        klass_info.get("from_parent")
        or attnames != [field.attname for field in model._meta.concrete_fields]
        or not _built_from_fields_alone(model)
    ):
        return None
    related = []
    for info in klass_info.get("related_klass_infos", ()):
        build_related = _model_builder(info, select, db)
        if build_related is None:
            return None
        related.append((info["local_setter"], info["remote_setter"], build_related))
    pk_position = start + attnames.index(model._meta.pk.attname)
    new = model.__new__

    def build(row):
        if row[pk_position] is None:  # a select_related row the outer join did not find
            return None
        obj = new(model)
        state = obj._state = ModelState()
        state.adding, state.db = False, db
        obj.__dict__.update(zip(attnames, row[start:end], strict=True))
        for local_setter, remote_setter, build_related in related:
            related_obj = build_related(row)
            local_setter(obj, related_obj)
            if related_obj is not None:
                remote_setter(related_obj, obj)
        return obj

    return build


def _built_from_fields_alone(model: type[Model]) -> bool:
    """Whether `Model.__init__` would only set the fields' values on `model`'s instances."""
    return (
        model.__init__ is Model.__init__
        and model.from_db.__func__ is Model.from_db.__func__
        and not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
        and all(
            type(inspect.getattr_static(model, field.attname)) in _PLAIN_ATTRIBUTES
            for field in model._meta.concrete_fields
        )
    )
