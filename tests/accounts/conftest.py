"""Users with each role, and one saved object of every kind at a known primary key for URL crawls."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.roles import set_role
from tests.conftest import PASSWORD

CRAWL_PK = 4242  # every <int:...> in a crawled URL; far above what sequences hand out in a test
CRAWL_SLUG = "crawl-client"  # every <slug:...>
SECRET = "crawl-secret-canary-7731"
TOKEN = "crawl-token-canary-7732"


def make_user(username: str, role: str, **extra):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)
    set_role(user, role)
    return user


@pytest.fixture
def viewer(db):
    return make_user("vera-viewer", "Viewer")


@pytest.fixture
def editor(db):
    return make_user("eddie-editor", "Editor")


@pytest.fixture
def admin_user(db):
    return make_user("ada-admin", "Admin")


@pytest.fixture
def world(db):
    """One object of each kind at CRAWL_PK, a client holding SECRET and TOKEN."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from clients.models import HttpClient, RequestLog
    from connections.models import Route, Run, RunTest, Task, Transformer, TransformerExample
    from tests.configurations.conftest import make_incoming, make_outgoing

    client = HttpClient.objects.create(
        pk=CRAWL_PK, name="Copper crawl", identifier=CRAWL_SLUG, platform="copper",
        settings={"base_uri": "https://api.copper.com/developer_api/v1", "user_email": "a@example.com"},
        secrets={"api_key": SECRET}, tokens={"access_token": TOKEN})
    incoming = make_incoming(client, "POST /people", pk=CRAWL_PK, identifier="crawl-in")
    outgoing = make_outgoing(client, "Create a New Company", pk=CRAWL_PK, identifier="crawl-out")
    transformer = Transformer.objects.create(pk=CRAWL_PK, name="Crawl", identifier="crawl-t")
    TransformerExample.objects.create(pk=CRAWL_PK, transformer=transformer, input={}, output=[{}])
    route = Route.objects.create(pk=CRAWL_PK, name="Crawl", identifier="crawl-r", incoming=incoming,
                                 outgoing=outgoing, realtime=False)
    run = Run.objects.create(pk=CRAWL_PK, incoming=incoming, status=Run.Status.FINISHED)
    Task.objects.create(pk=CRAWL_PK, route=route, run=run, dedupe_key="crawl", data={"name": "Acme"},
                        status=Task.Status.FAILED)
    RunTest.objects.create(pk=CRAWL_PK, incoming=incoming, status=RunTest.Status.FINISHED)
    RequestLog.objects.create(pk=CRAWL_PK, client=client, method="GET", url="https://api.copper.com/x", status=200)
    crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    PeriodicTask.objects.create(pk=CRAWL_PK, name="crawl schedule", task="connections.tasks.process_route",
                                crontab=crontab, enabled=False)
    make_user("someone-else", "Viewer", pk=CRAWL_PK)
    from webhooks.models import Webhook, WebhookRequest

    webhook = Webhook.objects.create(pk=CRAWL_PK, name="Crawl hook", identifier="crawl-hook",
                                     validators={"hmac": {"header": "X-Sig"}}, secrets={"hmac": SECRET})
    WebhookRequest.objects.create(pk=CRAWL_PK, webhook=webhook, http_status=202,
                                  body=f'{{"echo": "{SECRET}"}}'.encode(), headers={"X-Sig": SECRET})
    return client
