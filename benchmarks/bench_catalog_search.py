"""Entity search on ConnectWise's 3,063 entities: ranked (RapidFuzz) search against the old word filter.

"After" is Catalog.search (clients.entity_search: vocabulary + inverted index, fuzzy word
matches, relevance order). "Before", measured in the same run as the baseline, is the word
filter the catalog used until the ranked search replaced it: every word of the query must be
a substring of name, group or key, in four "name starts with / contains" buckets.
Prints per-query median and p95 milliseconds, the overall median and p95 of both, their ratio,
and for titles as the API documentation writes them, the rank of the right entity under each.
The machine is shared: the load average is printed beside the figures; compare ratios.
Usage: python benchmarks/bench_catalog_search.py [repeats]
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clients.platforms.base import CATALOG_DIR, Catalog  # noqa: E402

QUERIES = [
    ("t", {}),
    ("tic", {}),
    ("ticket", {}),
    ("service ticket", {"role": "subscriber"}),
    ("get company", {"role": "subscriber", "limit": 50}),
    ("", {"method": "PATCH", "role": "publisher"}),
    ("AddressFormats - Get AddressFormat by id", {}),
    ("adress formats", {}),
    ("time entry", {"role": "subscriber"}),
    ("zzz no match", {}),
]
# (catalog, the title as documented, the key the user means)
TITLES = [
    ("connectwise", "AddressFormats - Get AddressFormat by id", "GET /company/addressFormats/{id}"),
    ("connectwise", "Companies - Get Company", "GET /company/companies/{id}"),
    ("connectwise", "Tickets - Get Ticket by id", "GET /service/tickets/{id}"),
    ("pipedrive", "Users - Get one user", "GET /v1/users/{id}"),
    ("pipedrive", "Users - Update user details", "PUT /v1/users/{id}"),
    ("pipedrive", "See a Person's Activities", "GET /v2/activities"),
]


def word_filter(catalog: Catalog, text: str = "", method=None, role=None, include_deprecated=False, limit=None):
    """The search as it was before the ranked one (kept here only as the benchmark's baseline)."""
    index = getattr(catalog, "_bench_index", None)
    if index is None:
        index = catalog._bench_index = [(e, e.name.lower(), f"{e.name}\n{e.group}\n{e.key}".lower())
                                        for e in catalog.entities]
    needle = " ".join(text.lower().split())
    words = needle.split()
    method = method.upper() if method else None
    want_read = {None: None, "subscriber": True, "publisher": False}[role]
    buckets: tuple[list, ...] = ([], [], [], [])
    for entity, name, hay in index:
        if method and entity.method != method or entity.deprecated and not include_deprecated:
            continue
        if want_read is not None and entity.is_read is not want_read:
            continue
        if not words or name.startswith(needle):
            buckets[0].append(entity)
        elif not all(w in hay for w in words):
            continue
        elif needle in name:
            buckets[1].append(entity)
        else:
            buckets[2 if all(w in name for w in words) else 3].append(entity)
    found = [e for bucket in buckets for e in bucket]
    return found[:limit] if limit is not None else found


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def rank(found: list, key: str) -> str:
    keys = [e.key for e in found]
    return str(keys.index(key) + 1) if key in keys else "not found"


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (shared machine: compare the ratios)")
    start = time.perf_counter()
    catalog = Catalog.load(CATALOG_DIR / "connectwise.json")
    loaded = time.perf_counter()
    catalog.search("warm up")  # builds the search index once per process
    print(f"load connectwise.json ({len(catalog)} entities): {(loaded - start) * 1000:.1f} ms; "
          f"build the search index once: {(time.perf_counter() - loaded) * 1000:.1f} ms")
    all_after, all_before = [], []
    for text, opts in QUERIES:
        after = timed(lambda t=text, o=opts: catalog.search(t, **o), repeats)
        before = timed(lambda t=text, o=opts: word_filter(catalog, t, **o), repeats)
        all_after += after
        all_before += before
        print(f"{text[:30]!r:32} {len(catalog.search(text, **opts)):5} hits (before "
              f"{len(word_filter(catalog, text, **opts)):5})  after median {statistics.median(after):6.2f} ms "
              f"p95 {p95(after):6.2f} | before median {statistics.median(before):6.2f} ms p95 {p95(before):6.2f}")
    med_a, med_b = statistics.median(all_after), statistics.median(all_before)
    print(f"all queries: after median {med_a:.2f} ms p95 {p95(all_after):.2f} ms | "
          f"before (word filter, same run) median {med_b:.2f} ms p95 {p95(all_before):.2f} ms | "
          f"ratio after/before: median {med_a / med_b:.2f}x, p95 {p95(all_after) / p95(all_before):.2f}x; "
          f"target p95 < 50 ms: {'met' if p95(all_after) < 50 else 'NOT met'}")
    print("rank of the right entity for titles as documented (after | before):")
    catalogs = {"connectwise": catalog, "pipedrive": Catalog.load(CATALOG_DIR / "pipedrive.json")}
    for slug, title, key in TITLES:
        cat = catalogs[slug]
        print(f"  {slug:12} {title!r:45} {rank(cat.search(title), key):>9} | {rank(word_filter(cat, title), key)}")


if __name__ == "__main__":
    main()
