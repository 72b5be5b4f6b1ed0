"""How fast does the Incoming form's entity search answer on ConnectWise's 3,063 entities?

Measures Catalog.search (precomputed haystacks, one pass) for the queries a user types while
narrowing the entity dropdown, and a baseline: a naive scan that lower-cases and joins each
entity's name, group and key on every query. Also times loading the catalog JSON once.
Prints median and worst milliseconds per query and the ratio to the baseline.
Target: well under 200 ms per search (the dropdown re-renders on each keystroke).
Usage: python benchmarks/bench_catalog_search.py [repeats]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clients.platforms.base import CATALOG_DIR, Catalog  # noqa: E402

QUERIES = [
    ("t", {}),
    ("ticket", {}),
    ("service ticket", {"role": "subscriber"}),
    ("get company", {"role": "subscriber", "limit": 50}),
    ("", {"method": "PATCH", "role": "publisher"}),
    ("zzz no match", {}),
]


def naive(catalog: Catalog, text: str, method=None, role=None, limit=None) -> list:
    words = text.lower().split()
    found = []
    for e in catalog.entities:
        if method and e.method != method or e.deprecated:
            continue
        if role == "subscriber" and not e.subscriber or role == "publisher" and not e.publisher:
            continue
        hay = f"{e.name}\n{e.group}\n{e.key}".lower()
        if all(w in hay for w in words):
            found.append(e)
    return found[:limit] if limit else found


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    start = time.perf_counter()
    catalog = Catalog.load(CATALOG_DIR / "connectwise.json")
    print(f"load connectwise.json ({len(catalog)} entities): {(time.perf_counter() - start) * 1000:.1f} ms")
    total_fast = total_base = 0.0
    for text, opts in QUERIES:
        fast = timed(lambda t=text, o=opts: catalog.search(t, **o), repeats)
        base = timed(lambda t=text, o=opts: naive(catalog, t, **o), repeats)
        hits = len(catalog.search(text, **opts))
        total_fast += statistics.median(fast)
        total_base += statistics.median(base)
        print(
            f"{text!r:18} {str(opts):42} {hits:5} hits  search median {statistics.median(fast):6.2f} ms "
            f"worst {max(fast):6.2f} ms | naive median {statistics.median(base):6.2f} ms"
        )
    print(f"ratio naive/search (sum of medians): {total_base / total_fast:.2f}x")


if __name__ == "__main__":
    main()
