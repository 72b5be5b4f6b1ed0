"""Benchmark: keeping Picqer customers in sync with Pipedrive organizations (issue 13).

    .venv/bin/python benchmarks/bench_sync.py [--records 20000] [--changed 0.01]

In one process, against two local fakes on 127.0.0.1 (tests/fakes/sync.py), with the engine's own
functions (subscribe, then publish; no broker, so the figures are the sync logic's, not Celery's):

1. Run 1 reads N customers and creates N organizations (create or update on, ID mapping in a storage).
2. 1% of the customers change. Run 2 is measured twice, on two otherwise equal setups:
   incremental fetch off (the baseline: read everything, tasks only for changed records) and on
   (ask only for records changed since run 1). Requests to source and destination and wall time.
3. Storage get and save per second (one by one, and a page's worth at once), and "Filter previously
   stored entities" over N entities.
4. The HTTP request transformer's per-run cache: entities that look up one of a few organizations.

Everything lives in a temporary SQLite database (or BENCH_DATABASE_URL: give it an empty database).
Prints figures and the machine's load average; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from support import configure


def one_setup(name: str, records: int, changed: int, incremental: bool, create_or_update: bool = True) -> dict:
    from connections import engine
    from connections.models import Incoming, Outgoing, Route, RouteTransformer, Transformer
    from storages.models import Storage
    from sync.models import CreateOrUpdate, Watermark
    from tests.fakes.sync import PicqerCustomers, PipedriveOrganizations

    with PicqerCustomers(records, keep_requests=False) as source, \
            PipedriveOrganizations(keep_requests=False) as destination:
        incoming = Incoming.objects.create(
            name=f"{name} customers", identifier=f"{name}-in", platform="picqer", method="GET",
            entity="GET /customers", client=source.make_client(f"{name}-picqer"), pagination=True,
            request_parameters={"query": {"updated_after": "&{watermark:%Y-%m-%d %H:%M:%S}"}})
        Watermark.objects.create(incoming=incoming, enabled=incremental, time_zone="UTC")
        outgoing = Outgoing.objects.create(
            name=f"{name} organizations", identifier=f"{name}-out", platform="pipedrive", method="POST",
            entity="POST /v1/organizations", client=destination.make_client(f"{name}-pipedrive"))
        storage = Storage.objects.create(name=f"{name} ids", identifier=f"{name}-ids")
        CreateOrUpdate.objects.create(outgoing=outgoing, enabled=create_or_update,
                                      update_entity="PUT /v1/organizations/{id}",
                                      id_parameter="id", storage=storage, source_key="&{idcustomer}",
                                      response_id_path="data.id")
        route = Route.objects.create(name=name, identifier=name, incoming=incoming, outgoing=outgoing)
        shape = Transformer.objects.create(name=f"{name} shape", identifier=f"{name}-shape", steps=[
            {"kind": "value_setter", "settings": {"key": "payload.name", "value": "&{name}"}}])
        RouteTransformer.objects.create(route=route, transformer=shape)

        started = time.perf_counter()
        engine.execute_run(engine.start_run(incoming).pk)
        engine.process_tasks(route.pk)
        run1 = time.perf_counter() - started
        assert destination.creates == records, destination.creates
        if changed == 0:
            return {"run1": run1}

        source.change(list(range(1, records + 1, max(1, records // changed)))[:changed])
        src_before, dst_before = source.request_count, destination.request_count
        started = time.perf_counter()
        run = engine.execute_run(engine.start_run(incoming).pk)
        engine.process_tasks(route.pk)
        run2 = time.perf_counter() - started
        return {
            "run1": run1, "run2": run2, "entities": run.entities, "tasks": run.tasks_created,
            "source_requests": source.request_count - src_before,
            "destination_requests": destination.request_count - dst_before,
            "creates": destination.creates, "updates": destination.updates,
        }


def storage_speed(count: int) -> dict:
    from connections.transformers import compile_chain
    from connections.transformers import context as step_context
    from storages import store
    from storages.models import Storage

    storage = Storage.objects.create(name="Speed", identifier="speed")
    entities = [{"idcustomer": i, "name": f"Customer {i}", "city": "Utrecht"} for i in range(count)]
    started = time.perf_counter()
    for entity in entities[: count // 10]:
        store.save(storage, str(entity["idcustomer"]), entity)
    save_one = (count // 10) / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, count, 100):  # a page's writes, as a run commits them
        store.save_many(storage, [(str(e["idcustomer"]), e) for e in entities[start:start + 100]])
    save_page = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for entity in entities:
        store.get(storage, str(entity["idcustomer"]))
    get_one = count / (time.perf_counter() - started)

    chain = compile_chain([{"kind": "filter_previously_stored",
                            "settings": {"storage": "speed", "key": "&{idcustomer}"}}])
    ctx = step_context.StepContext(mode=step_context.BUFFERED)
    started = time.perf_counter()
    with step_context.running(ctx):
        kept = sum(len(chain(e)) for e in entities)
    filter_rate = count / (time.perf_counter() - started)
    return {"save_one": save_one, "save_page": save_page, "get_one": get_one, "filter": filter_rate,
            "filter_kept": kept}


def http_cache(count: int, distinct: int) -> dict:
    from connections.transformers import compile_chain
    from connections.transformers import context as step_context
    from tests.fakes.sync import PipedriveOrganizations

    with PipedriveOrganizations() as pipedrive:
        for i in range(1, distinct + 1):
            pipedrive.organizations[i] = {"name": f"Org {i}"}
        pipedrive.make_client("cache-pipedrive")
        chain = compile_chain([{"kind": "http_request", "settings": {
            "client": "cache-pipedrive", "entity": "GET /v1/organizations/{id}", "path": {"id": "&{org_id}"},
            "select": "data.name", "target": "org_name"}}])
        ctx = step_context.StepContext(mode=step_context.BUFFERED)
        started = time.perf_counter()
        with step_context.running(ctx):
            for i in range(count):
                chain({"id": i, "org_id": i % distinct + 1})
        elapsed = time.perf_counter() - started
        return {"lookups": count, "requests": pipedrive.request_count, "hits": ctx.http_hits,
                "rate": ctx.http_hits / count, "per_s": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args()
    changed = max(1, int(args.records * args.changed))

    with tempfile.TemporaryDirectory() as tmp:
        configure(Path(tmp), ALLOW_PRIVATE_NETWORK="1")  # the fakes listen on 127.0.0.1
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"load average before: {os.getloadavg()} (2 cores shared with other work: prefer the ratios)")

        off = one_setup("off", args.records, changed, incremental=False)
        on = one_setup("on", args.records, changed, incremental=True)
        print(f"\nRun 1: {args.records} customers -> {off['creates']} organizations created in {off['run1']:.1f} s "
              f"({args.records / off['run1']:.0f} records/s, read + create)")
        print(f"Run 2 after {changed} changed customers ({args.changed:.0%}):")
        print(f"{'':24}{'incremental off':>18}{'incremental on':>18}{'on/off':>10}")
        for label, key in (("source requests", "source_requests"), ("records read", "entities"),
                           ("tasks", "tasks"), ("destination requests", "destination_requests"),
                           ("wall time (s)", "run2")):
            a, b = off[key], on[key]
            fmt = "{:>18.2f}" if isinstance(a, float) else "{:>18}"
            print(f"{label:24}" + fmt.format(a) + fmt.format(b) + f"{(b / a if a else 0):>10.3f}")
        print(f"updates at the destination: off {off['updates']}, on {on['updates']} (expected {changed} each); "
              f"no extra creates: {off['creates'] == on['creates'] == args.records}")

        speed = storage_speed(min(args.records, 20000))
        print(f"\nStorage: save one by one {speed['save_one']:,.0f}/s; save a page (100) at once "
              f"{speed['save_page']:,.0f}/s (ratio {speed['save_page'] / speed['save_one']:.1f}x); "
              f"get by key {speed['get_one']:,.0f}/s")
        print(f"Filter previously stored entities over {min(args.records, 20000)} unchanged entities: "
              f"{speed['filter']:,.0f} entities/s, {speed['filter_kept']} kept")

        small = min(args.records, 2000)
        plain = one_setup("plain", small, 0, incremental=False, create_or_update=False)["run1"]
        mapped = one_setup("mapped", small, 0, incremental=False, create_or_update=True)["run1"]
        print(f"\nRun 1 of {small} records, create or update off (every task a plain POST) vs on (a marker committed "
              f"before each create, the id saved with the outcome): {plain:.1f} s vs {mapped:.1f} s, "
              f"ratio {mapped / plain:.2f}")

        cache = http_cache(2000, 50)
        print(f"\nHTTP request transformer: {cache['lookups']} lookups of 50 organizations -> {cache['requests']} "
              f"requests, per-run cache hit rate {cache['rate']:.1%} ({cache['per_s']:,.0f} lookups/s)")
        print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
