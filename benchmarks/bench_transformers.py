"""How fast does a 6-step transformer chain shape entities on one core?

Runs the same six operations two ways over 100,000 Picqer-like order entities:
- the chain runner (``compile_chain`` once, then one call per entity, as the engine does), and
- ``apply_chain`` compiling per entity (what the tester page does for one entity), and
- a baseline: the six operations hand-written inline, copying just as little.

Prints entities/s for each and the ratio to the baseline. Target: > 50,000 entities/s for the chain.
Usage: python benchmarks/bench_transformers.py [entities]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")

from connections.transformers import apply_chain, compile_chain  # noqa: E402

STEPS = [
    {"kind": "filter", "settings": {"conditions": [{"key": "status", "op": "in", "value": ["processing", "paid"]}]}},
    {"kind": "cast", "settings": {"key": "totalprice", "to": "number"}},
    {"kind": "move", "settings": {"source": "deliveryname", "target": "customer_name"}},
    {"kind": "value_setter", "settings": {"key": "payload.name", "value": "&{customer_name}"}},
    {"kind": "value_setter", "settings": {"key": "path.idorder", "value": "&{idorder}"}},
    {"kind": "remove", "settings": {"keys": ["internal_note", "tags"]}},
]


def make_entities(count: int) -> list[dict]:
    return [
        {
            "idorder": i,
            "orderid": f"O{i:07d}",
            "status": "processing" if i % 10 else "cancelled",  # one in ten is filtered out
            "totalprice": f"{i % 997}.95",
            "deliveryname": f"Customer {i}",
            "deliveryaddress": {"street": "Main 1", "zipcode": "1000 AA", "city": "Amsterdam", "country": "NL"},
            "products": [{"idproduct": i, "productcode": f"P{i}", "amount": 2, "price": 9.95}],
            "internal_note": "x",
            "tags": ["a", "b"],
            "created": "2024-05-31 12:00:00",
        }
        for i in range(count)
    ]


def baseline(entity: dict) -> list[dict]:
    """The same six operations written by hand, copying only what changes."""
    if entity["status"] not in ("processing", "paid"):
        return []
    out = dict(entity)
    out["totalprice"] = float(out["totalprice"])
    out["customer_name"] = out.pop("deliveryname")
    out["payload"] = {"name": out["customer_name"]}
    out["path"] = {"idorder": out["idorder"]}
    out.pop("internal_note", None)
    out.pop("tags", None)
    return [out]


def measure(label: str, fn, entities: list[dict]) -> float:
    start = time.perf_counter()
    produced = 0
    for entity in entities:
        produced += len(fn(entity))
    elapsed = time.perf_counter() - start
    rate = len(entities) / elapsed
    print(f"{label:<38} {rate:>12,.0f} entities/s  ({elapsed:.3f}s, {produced:,} kept)")
    return rate


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    entities = make_entities(count)
    chain = compile_chain(STEPS)
    # Both must agree, or the comparison means nothing.
    assert [chain(e) for e in entities[:50]] == [baseline(e) for e in entities[:50]]

    print(f"6-step chain over {count:,} entities, one core")
    base = measure("baseline (hand-written inline)", baseline, entities)
    compiled = measure("compile_chain once, run per entity", chain, entities)
    per_call = measure("apply_chain (compiles per entity)", lambda e: apply_chain(STEPS, e), entities[: count // 5])
    print(f"ratio chain/baseline: {compiled / base:.2f}  (apply_chain/baseline: {per_call / base:.2f})")
    print(f"target > 50,000 entities/s: {'met' if compiled > 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
