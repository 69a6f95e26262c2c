"""Querysets compiled once per process, run again with new values.

Building a queryset (annotations resolved, joins set up) and compiling it to SQL costs
Django more than PostgreSQL spends running the statement: for checkEligibility at 100
lines, about a third of the ORM's time went to building and compiling the same two
statements on every request (bench/results.md, "Where the time goes"). A `Prepared`
query is built and compiled the first time a thread uses it, with placeholder values;
later runs put the real values in the compiled statement's parameters and read the rows
through Django's own `ModelIterable` (select_related, annotations, converters), so the
instances are exactly what the queryset would return.

Only for querysets whose SQL shape does not depend on the values: equality filters on
values that are never None (a None would compile to `IS NULL`), no `IN` lists, no
prefetch (fetch related rows with a prepared query of their own). A run with a value
that does not fit the placeholder's type, or a statement in which a placeholder cannot
be found once, falls back to building the queryset normally.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet

# Values no constant of our statements has, to find each one's place in the parameters:
# positive (a PositiveIntegerField refuses negatives at compile time) and within 32 bits
# (an out-of-range value compiles to an empty result).
_INT_MARK = 2_141_592_653
_STR_MARK = "\x1fprepared-value-{}\x1f"


@dataclass
class _Compiled:
    queryset: QuerySet
    compiler: object
    sql: str
    params: tuple
    places: dict[str, int]  # value name -> index in params


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
            marks = self._marks()
            queryset = self.build(**marks).using(using)
            compiler = queryset.query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()
            except (EmptyResultSet, FullResultSet):
                cache[using] = None  # decided by its values: build it every time
                return None
            places = {}
            for name, mark in marks.items():
                found = [index for index, param in enumerate(params) if param == mark]
                if len(found) != 1:
                    cache[using] = None  # shaped by its values: build it every time
                    break
                places[name] = found[0]
            else:
                cache[using] = _Compiled(queryset, compiler, sql, tuple(params), places)
        return cache[using]

    def run(self, *, using: str = "default", **values) -> list:
        compiled = self._compiled(using)
        fits = all(type(values[name]) is kind for name, kind in self.kinds.items())
        if compiled is None or not fits:
            return list(self.build(**values).using(using))
        params = list(compiled.params)
        for name, index in compiled.places.items():
            params[index] = values[name]
        replay = copy.copy(compiled.compiler)
        replay.connection = connections[using]
        replay.as_sql = lambda *args, **kwargs: (compiled.sql, tuple(params))
        queryset = compiled.queryset._chain()
        queryset.query.get_compiler = lambda *args, **kwargs: replay
        return list(queryset)
