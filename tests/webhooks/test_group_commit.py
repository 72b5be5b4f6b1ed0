"""The endpoint's group commit and its per-process webhook cache, over real sockets (live_server).

Every 202 has its row; requests that arrive while a commit runs share the next one; a batch
whose transaction fails answers 503 to each of its requests and stores none of them; a webhook
changed by another process (no signal reaches this one) is judged as it is now.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests
from django.db import connection, transaction
from django.utils import timezone

from webhooks.committer import committer
from webhooks.models import Webhook, WebhookRequest

TOKEN = "intake-token-5d1e9a"
TABLE = WebhookRequest._meta.db_table


def make(identifier: str = "grouped") -> Webhook:
    return Webhook.objects.create(name=identifier, identifier=identifier,
                                  validators={"shared_secret": {"location": "header", "name": "X-Token"}},
                                  secrets={"shared_secret": TOKEN})


def post(live_server, webhook: Webhook, marker: str, token: str = TOKEN, query: str = "") -> requests.Response:
    return requests.post(f"{live_server.url}/webhooks/{webhook.identifier}{query}",
                         data=f'{{"marker": "{marker}"}}'.encode(),
                         headers={"Content-Type": "application/json", "X-Token": token}, timeout=120)


def wait_for(condition, budget: float = 90) -> None:
    deadline = time.monotonic() + budget
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def stored_markers() -> set[str]:
    return {bytes(body).decode().split('"')[3] for body in
            WebhookRequest.objects.filter(status=WebhookRequest.Status.RECEIVED).values_list("body", flat=True)}


@contextmanager
def writes_held():
    """Another connection holds the requests table's write lock until the block ends."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
                # SQLite: the settings' BEGIN IMMEDIATE already took the database's write lock.
                held.set()
                release.wait(120)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(60)
    try:
        yield
    finally:
        release.set()
        holder.join(60)


@contextmanager
def refusing_trigger():
    """The database refuses a request whose query string holds "poison": on PostgreSQL at COMMIT
    (a deferred constraint trigger), on SQLite at the INSERT (SQLite has no deferred triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION intake_test_refuse() RETURNS trigger AS $$ BEGIN "
                           "IF NEW.query_string LIKE '%%poison%%' THEN RAISE EXCEPTION 'refused by the test'; "
                           "END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE CONSTRAINT TRIGGER intake_test_refuse AFTER INSERT ON {TABLE} "
                           "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION intake_test_refuse()")
        else:
            cursor.execute(f"CREATE TRIGGER intake_test_refuse BEFORE INSERT ON {TABLE} "
                           "WHEN NEW.query_string LIKE '%poison%' "
                           "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER intake_test_refuse" + (f" ON {TABLE}" if connection.vendor == "postgresql"
                                                                 else ""))
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION intake_test_refuse()")


def test_concurrent_requests_every_202_has_its_row(live_server, transactional_db):
    webhook = make()
    markers = [f"m{i:03d}" for i in range(120)]

    def send(marker: str) -> tuple[str, int]:
        wrong = marker.endswith("7")  # every tenth one carries a wrong token
        return marker, post(live_server, webhook, marker, token="not-it" if wrong else TOKEN).status_code

    with ThreadPoolExecutor(24) as pool:
        answers = dict(pool.map(send, markers))

    accepted = {m for m, status in answers.items() if status == 202}
    assert {m for m, status in answers.items() if status != 202} == {m for m in markers if m.endswith("7")}
    assert all(answers[m] == 403 for m in markers if m.endswith("7"))
    assert stored_markers() == accepted and len(accepted) == 108
    assert WebhookRequest.objects.filter(status=WebhookRequest.Status.RECEIVED).count() == 108
    assert WebhookRequest.objects.filter(status=WebhookRequest.Status.REFUSED).count() == 12


def test_requests_arriving_during_a_commit_share_the_next_one(live_server, transactional_db):
    webhook = make()
    assert post(live_server, webhook, "warm").status_code == 202  # the writer and its connection exist
    taken, batches, writers = committer.taken, committer.batches, committer.writers()
    with ThreadPoolExecutor(writers + 5) as pool, writes_held():
        first = []
        for n in range(writers):  # one at a time, so each writer takes one and is blocked by the lock
            first.append(pool.submit(post, live_server, webhook, f"first{n}"))
            wait_for(lambda n=n: committer.taken == taken + n + 1)
        rest = [pool.submit(post, live_server, webhook, f"next{i}") for i in range(5)]
        wait_for(lambda: committer.waiting() == 5)  # the five wait for a writer together
        assert not any(f.done() for f in first)  # nothing is answered before its commit
    assert all(f.result().status_code == 202 for f in first + rest)
    assert committer.batches == batches + writers + 1  # each "first" alone, then the five in one transaction
    assert stored_markers() == {"warm", *(f"first{n}" for n in range(writers)), *(f"next{i}" for i in range(5))}


def test_a_failed_commit_answers_503_to_its_whole_batch_and_stores_none_of_it(live_server, transactional_db):
    webhook = make()
    assert post(live_server, webhook, "before").status_code == 202
    with refusing_trigger():
        assert post(live_server, webhook, "alone", query="?poison=1").status_code == 503
        taken, writers = committer.taken, committer.writers()
        with ThreadPoolExecutor(writers + 3) as pool, writes_held():
            first = []
            for n in range(writers):  # every writer holds one request, blocked by the lock
                first.append(pool.submit(post, live_server, webhook, f"first{n}"))
                wait_for(lambda n=n: committer.taken == taken + n + 1)
            batch = [pool.submit(post, live_server, webhook, "poisoned", query="?poison=1"),
                     *(pool.submit(post, live_server, webhook, f"mate{i}") for i in range(2))]
            wait_for(lambda: committer.waiting() == 3)
        assert all(f.result().status_code == 202 for f in first)
        answers = [f.result() for f in batch]
        assert [a.status_code for a in answers] == [503, 503, 503]
        assert all(a.json() == {"error": "not stored, try again"} for a in answers)
        assert post(live_server, webhook, "after").status_code == 202  # the writer goes on
    assert stored_markers() == {"before", *(f"first{n}" for n in range(writers)), "after"}


def test_a_webhook_changed_by_another_process_is_judged_as_it_is_now(live_server, transactional_db):
    webhook = make()
    assert post(live_server, webhook, "cached").status_code == 202  # this process now holds its copy
    # Another process changes the token: no signal reaches this one, its copy is stale.
    Webhook.objects.filter(pk=webhook.pk).update(secrets={"shared_secret": "rotated-token-77"},
                                                 updated_at=timezone.now())
    assert post(live_server, webhook, "old token").status_code == 403  # accepted by the copy, not at commit
    assert post(live_server, webhook, "new token", token="rotated-token-77").status_code == 202
    Webhook.objects.filter(pk=webhook.pk).update(disabled=True, updated_at=timezone.now())
    assert post(live_server, webhook, "disabled", token="rotated-token-77").status_code == 404
    assert stored_markers() == {"cached", "new token"}
    refused = WebhookRequest.objects.get(status=WebhookRequest.Status.REFUSED)
    assert refused.http_status == 403 and not bytes(refused.body)


@pytest.mark.django_db
def test_inside_a_transaction_the_row_is_stored_on_the_callers_connection(client):
    """A test's (or ATOMIC_REQUESTS') transaction: the writer thread could not see the webhook."""
    webhook = make()
    answer = client.post(f"/webhooks/{webhook.identifier}", b'{"marker": "inline"}', content_type="application/json",
                         HTTP_X_TOKEN=TOKEN)
    assert answer.status_code == 202
    assert stored_markers() == {"inline"}


def test_the_short_way_past_the_middleware_keeps_security_headers_and_only_takes_posts(live_server, transactional_db):
    """webhooks/middleware.py: POST /webhooks/<id> skips the dashboard's middleware (no session, no
    CSP), SecurityMiddleware before it still answers; other methods and paths take the ordinary way."""
    webhook = make()
    accepted = post(live_server, webhook, "short")
    assert accepted.status_code == 202 and accepted.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in accepted.headers
    assert "Content-Security-Policy" not in accepted.headers  # CSPMiddleware (further down) was skipped
    other = requests.get(f"{live_server.url}/webhooks/{webhook.identifier}", timeout=60)
    assert other.status_code == 405 and other.headers["Allow"] == "POST"
    slash = requests.post(f"{live_server.url}/webhooks/{webhook.identifier}/", data=b"{}", timeout=60,
                          headers={"X-Token": TOKEN}, allow_redirects=False)
    assert slash.status_code != 202
    assert stored_markers() == {"short"}
