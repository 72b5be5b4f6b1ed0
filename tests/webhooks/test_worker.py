"""Real sockets and a real `celery worker`: nothing accepted is lost, nothing is turned into tasks twice.

Runs on the embedded filesystem broker and on Redis (the `broker` fixture).
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from connections.models import Run, Task, Transformer
from tests.support.worker import wait_for
from webhooks import tasks as webhook_jobs
from webhooks.models import WebhookRequest

from .conftest import build_pipeline, make_webhook, picqer_event, signed_headers

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def send(live_server, webhook, body: bytes):
    headers, query = signed_headers(webhook, body)
    return requests.post(f"{live_server.url}/webhooks/{webhook.identifier}{query}", data=body, headers=headers,
                         timeout=30)


def test_requests_accepted_with_no_worker_are_processed_once_a_worker_starts(
        live_server, start_worker, destination):
    pipeline = build_pipeline(destination)
    webhook = make_webhook("picqer", pipeline.incoming)
    names = [f"Customer {i}" for i in range(20)]

    answers = [send(live_server, webhook, picqer_event(name)) for name in names]

    assert [a.status_code for a in answers] == [202] * 20
    assert WebhookRequest.objects.filter(status=WebhookRequest.Status.RECEIVED).count() == 20  # waiting, stored
    start_worker()
    wait_for(lambda: WebhookRequest.objects.filter(status=WebhookRequest.Status.PROCESSED).count() == 20,
             timeout=120, message="20 processed requests")
    wait_for(lambda: len(destination.published) == 20, timeout=120, message="20 published persons")
    assert sorted(r.body["name"] for r in destination.published) == sorted(names)  # 0 lost, 0 twice
    assert Task.objects.filter(route=pipeline.route).count() == 20
    assert Run.objects.filter(trigger="webhook", status=Run.Status.FINISHED).count() == 20


def test_a_worker_killed_while_processing_leaves_the_request_to_be_processed_again_without_duplicates(
        live_server, start_worker, destination):
    pipeline = build_pipeline(destination, realtime=False)  # tasks only: 60,000 publications would take long
    second = Transformer.objects.create(name="Keep", identifier="keep", steps=[])
    route_b = pipeline.route
    route_b.pk = None
    route_b.identifier, route_b.name = "hook-b", "Orders to persons B"
    route_b.save()
    route_b.routetransformer_set.create(transformer=second, position=0)
    webhook = make_webhook("picqer", pipeline.incoming, max_body_bytes=10_000_000)
    # Big enough that storing its tasks takes seconds, so the kill lands mid-processing.
    body = json.dumps({"event": "orders.created", "data": [
        {"idorder": i, "name": f"Customer {i}", "email": f"c{i}@example.com"} for i in range(20_000)]}).encode()
    env = {"WEBHOOK_CLAIM_TIMEOUT_SECONDS": "3"}
    first = start_worker(extra_env=env)

    assert send(live_server, webhook, body).status_code == 202
    stored = WebhookRequest.objects.get()
    wait_for(lambda: WebhookRequest.objects.filter(pk=stored.pk, status="processing").exists(), timeout=120,
             interval=0.01, message="the worker to claim the request")
    first.kill()

    stored.refresh_from_db()
    assert stored.status == WebhookRequest.Status.PROCESSING  # killed before it could finish
    runs_of_first_claim = dict(stored.runs)
    start_worker(extra_env=env)

    def processed() -> bool:
        # The periodic sweep's job, sent here rather than waiting for beat's minute.
        webhook_jobs.process_pending.delay()
        time.sleep(2)
        return WebhookRequest.objects.filter(pk=stored.pk, status="processed").exists()

    wait_for(processed, timeout=180, interval=1, message="the request processed by the second worker")
    stored.refresh_from_db()
    assert stored.attempts == 2
    assert stored.runs == runs_of_first_claim or not runs_of_first_claim  # the same runs, so the same task keys
    assert stored.entities == 20_000 and stored.tasks_created == 40_000
    assert Task.objects.filter(route=pipeline.route).count() == 20_000
    assert Task.objects.filter(route=route_b).count() == 20_000


def test_replay_processes_the_stored_body_again_after_a_transformer_fix(
        live_server, start_worker, destination, signed_in):
    pipeline = build_pipeline(destination)
    webhook = make_webhook("picqer", pipeline.incoming)
    start_worker()
    mapping = Transformer.objects.get(identifier="hook-map")
    mapping.steps = [{"kind": "copy", "settings": {"source": "nickname", "target": "payload.name"}}]  # a typo'd key
    mapping.save()

    assert send(live_server, webhook, picqer_event("Grace Hopper")).status_code == 202
    wait_for(lambda: WebhookRequest.objects.filter(status="failed").exists(), timeout=120,
             message="the request failed on the transformer")
    stored = WebhookRequest.objects.get()
    assert "nickname" in stored.error and not destination.published
    mapping.steps = [{"kind": "copy", "settings": {"source": "name", "target": "payload.name"}}]
    mapping.save()

    page = signed_in.post(f"/connections/webhooks/requests/{stored.pk}/replay/", follow=True)

    assert "queued to be processed again" in page.content.decode()
    wait_for(lambda: len(destination.published) == 1, timeout=120, message="the replayed request published")
    stored.refresh_from_db()
    assert stored.status == WebhookRequest.Status.PROCESSED and stored.replays == 1 and stored.tasks_created == 1
    assert destination.published[0].body["name"] == "Grace Hopper"
