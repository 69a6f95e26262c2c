"""Where the time of a request goes: pyinstrument (or cProfile) over in-process requests.

Usage: .venv/bin/python bench/profile_request.py [eligibility|portal|floor] [N] [--cprofile]

Runs on a database left by `bench/run.py --keep` (returns_bench), with the bench
settings (production + query count), through Django's test client with `secure=True`
(as behind the TLS proxy): the whole middleware stack, URL resolution, view, response.
Prints pyinstrument's call tree (or cProfile's top functions by cumulative time).
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/returns_bench")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from bench import dataset  # noqa: E402


def requests(kind: str, lines: int):
    from rma.apikeys import api_key_create
    from rma.models import Store

    client = Client()
    order_id = dataset.per_line_order_id(lines)
    if kind == "eligibility":
        _, key = api_key_create(store=Store.objects.get(code=dataset.STORE_CODE), name="profile")
        base = f"/v1.0/seller/{dataset.STORE_CODE}/return-order/create"
        path = f"{base}/{order_id}/checkEligibility.json"
        return lambda: client.get(path, headers={"apikey": key}, secure=True)
    if kind == "portal":
        client.post(
            "/",
            {"order_number": order_id, "contact": dataset.lookup_email(1)},
            secure=True,
        )
        path = f"/order/{dataset.STORE_CODE}/{order_id}/"
        return lambda: client.get(path, secure=True)
    if kind == "floor":
        from django.test import override_settings

        override_settings(ROOT_URLCONF="bench.urls").enable()
        path = f"/bench/floor/{dataset.STORE_CODE}/{order_id}.json"
        return lambda: client.get(path, secure=True)
    raise SystemExit(f"unknown kind {kind}")


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else "eligibility"
    runs = int(argv[1]) if len(argv) > 1 else 300
    lines = 100
    send = requests(kind, lines)
    for _ in range(30):
        response = send()
        assert response.status_code == 200, response.status_code
    started = time.perf_counter()
    if "--cprofile" in argv:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            send()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    else:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(runs):
            send()
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    elapsed = (time.perf_counter() - started) / runs * 1000
    print(f"{kind} at {lines} lines: {elapsed:.2f} ms a request in-process (profiled)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
