"""Server-side time of the Incoming form's entity dropdown search on ConnectWise (3,063 entities).

Calls the real view (`connections:incoming_entity_options`) through Django's RequestFactory,
template rendering included, for ~100 searches of varied terms, and compares with a baseline:
the same view rendering the *unfiltered* catalog (every subscriber entity as an <option>),
which is what a plain <select> would have to send. Prints median and p95 in milliseconds
and the ratio. Target: under 200 ms per search.

Usage: python benchmarks/bench_entity_search.py [searches]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")
# A throwaway database: the form lists the platform's HTTP Clients, so the tables must exist.
_TMP = tempfile.TemporaryDirectory()
os.environ["DATABASE_URL"] = f"sqlite:///{_TMP.name}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from connections import catalog  # noqa: E402
from connections.views import incoming  # noqa: E402

TERMS = [
    "t", "ti", "tic", "ticket", "ticket note", "service ticket", "company", "get company", "addressformat",
    "addressformats get", "contact", "contacts communication", "agreement", "agreement addition", "invoice",
    "time entry", "project", "project phase", "schedule", "member", "configuration", "opportunity", "sales",
    "finance", "procurement", "catalog item", "system", "report", "board", "status", "zzz no match", "",
    "get", "list", "count", "info", "type", "document", "expense", "product",
]


def measure(factory: RequestFactory, params: dict) -> tuple[float, int]:
    request = factory.get("/connections/incoming/entities/", params)
    request.user = AnonymousUser()
    request.htmx = True  # the partial, as the search box asks for it
    start = time.perf_counter()
    response = incoming.incoming_entity_options(request)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed * 1000, len(response.content)


def main() -> None:
    searches = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    setup_test_environment()
    factory = RequestFactory()
    base = {"platform": "connectwise", "entity": "GET /company/addressFormats/{id}"}
    measure(factory, {**base, "entity_q": "warm up"})  # catalog load and template compile, once

    timings, sizes = [], []
    for i in range(searches):
        ms, size = measure(factory, {**base, "entity_q": TERMS[i % len(TERMS)]})
        timings.append(ms)
        sizes.append(size)

    # Baseline: the same view with no limit renders every subscriber entity.
    limit = catalog.ENTITY_OPTION_LIMIT
    catalog.ENTITY_OPTION_LIMIT = 10_000
    try:
        baseline, baseline_sizes = [], []
        for _ in range(max(10, searches // 10)):
            ms, size = measure(factory, {**base, "entity_q": ""})
            baseline.append(ms)
            baseline_sizes.append(size)
    finally:
        catalog.ENTITY_OPTION_LIMIT = limit

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    med, base_med = statistics.median(timings), statistics.median(baseline)
    print(f"ConnectWise entity search through the view, {searches} searches of {len(TERMS)} terms")
    print(f"  search (limit {limit}):   median {med:7.2f} ms   p95 {p95(timings):7.2f} ms   "
          f"response {statistics.median(sizes) / 1024:6.1f} KiB")
    print(f"  baseline (full list):  median {base_med:7.2f} ms   p95 {p95(baseline):7.2f} ms   "
          f"response {statistics.median(baseline_sizes) / 1024:6.1f} KiB")
    print(f"  ratio baseline/search: {base_med / med:.1f}x faster; target < 200 ms: "
          f"{'met' if p95(timings) < 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
