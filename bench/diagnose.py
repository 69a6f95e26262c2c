"""In-process looks behind the figures: which queries grow with the lines, the lookup's
query plan, and the label timings of bench/label_render.py."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import traceback
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("rma/", "labels/", "returns_portal/")
LABEL_LINE = re.compile(r"^(?P<name>\S.*?)\s+median\s+(?P<ms>[\d.]+) ms", re.MULTILINE)


def normalised(statement: str) -> str:
    """The statement with its placeholders, literals and IN lists folded, so repeats look
    alike whatever their parameters."""
    statement = statement.replace("%s", "?")
    statement = re.sub(r"'(?:[^']|'')*'", "?", statement)
    statement = re.sub(r"\b\d+\b", "?", statement)
    return re.sub(r"IN \((?:\?, )*\?\)", "IN (…)", statement)


def project_frame() -> str:
    """The innermost frame of our own code (not Django's, not the bench's) on the stack."""
    for frame in reversed(traceback.extract_stack()):
        path = Path(frame.filename)
        if not path.is_relative_to(ROOT):
            continue
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(PROJECT_PACKAGES):
            return f"{relative}:{frame.lineno} in {frame.name}()"
    return "(no project frame: Django or the bench)"


def _queries_of(send) -> Counter:
    from django.db import connection

    seen: Counter = Counter()

    def recording(execute, sql, params, many, context):
        seen[(normalised(sql), project_frame())] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(recording):
        response = send()
    if response.status_code >= 400:
        raise RuntimeError(f"in-process request answered {response.status_code}")
    return seen


def growing_queries(requests: list[tuple]) -> list:
    """Statements the last request runs more often than the first, with the line of our
    code that ran them: (statement, source, count in the first, count in the last).

    `requests` are (prepare, send) pairs of callables taking a fresh Django test client;
    only the queries of `send` are counted (prepare logs in, for example).
    """
    from django.test import Client

    counts = []
    for prepare, send in requests:
        client = Client()
        prepare(client)
        counts.append(_queries_of(lambda client=client, send=send: send(client)))
    first, last = counts[0], counts[-1]
    return [
        (statement, source, first.get((statement, source), 0), count)
        for (statement, source), count in last.most_common()
        if count > first.get((statement, source), 0)
    ]


def lookup_plan(url: str, order_number: str) -> str:
    """EXPLAIN ANALYZE of the portal lookup's query (`orders_matching_number`) on `url`."""
    from rma.selectors import orders_matching_number

    statement, params = orders_matching_number(order_number).query.sql_with_params()
    with psycopg.connect(url) as connection:
        rows = connection.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, params).fetchall()
    return "\n".join(row[0] for row in rows)


def label_timings(runs: int) -> dict[str, float] | None:
    """Median milliseconds per document from the colleague's bench/label_render.py
    (`main(runs)` prints them), or None when the script is not there."""
    if not (ROOT / "bench" / "label_render.py").exists():
        return None
    module = importlib.import_module("bench.label_render")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        module.main(runs)
    return {match["name"]: float(match["ms"]) for match in LABEL_LINE.finditer(printed.getvalue())}
