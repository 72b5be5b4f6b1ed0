"""Bad data saved before the forms refused it must not break the pages that show it (or their Delete)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from clients.models import HttpClient
from connections.models import Incoming, Outgoing, Transformer

pytestmark = pytest.mark.django_db

DEEP_900 = {"query": {}}
_inner = DEEP_900["query"]
for _ in range(900):
    _inner["a"] = {}
    _inner = _inner["a"]


@pytest.fixture
def picqer():
    return HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer",
                                     settings={"base_uri": "http://127.0.0.1:9/api/v1"})


def pages_of(incoming: Incoming) -> list[str]:
    return [
        reverse("connections:incoming_edit", args=[incoming.pk]),
        reverse("connections:incoming_list"),
        reverse("connections:transformer_list"),
        reverse("connections:scheduler_list"),
        reverse("connections:incoming_export") + f"?id={incoming.pk}",
        reverse("connections:incoming_export"),
        reverse("connections:transformer_new") + f"?incoming={incoming.pk}",
    ]


def test_a_lone_surrogate_saved_in_request_parameters_breaks_no_page(signed_in, picqer):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's jsonb never stored one: nothing to show")
    incoming = Incoming.objects.create(name="Odd", identifier="odd", platform="picqer", method="GET",
                                       entity="GET /customers", client=picqer,
                                       request_parameters={"query": {"search": "a\ud800b"}},
                                       last_test=[{"name": "x\udfffy"}])
    Transformer.objects.create(name="Odd steps", identifier="odd-steps", steps=[
        {"kind": "value_setter", "settings": {"key": "name", "value": "a\ud800b"}}])
    for url in pages_of(incoming) + [reverse("connections:transformer_edit", args=[Transformer.objects.get().pk])]:
        response = signed_in.get(url)
        assert response.status_code == 200, url
    page = signed_in.get(reverse("connections:incoming_edit", args=[incoming.pk])).content.decode()
    assert "\\ud800" in page  # shown escaped, so the user sees what to fix
    response = signed_in.post(reverse("connections:incoming_delete", args=[incoming.pk]))
    assert response.status_code == 302 and not Incoming.objects.exists()


def test_deeply_nested_request_parameters_saved_before_break_no_page(signed_in, picqer):
    incoming = Incoming.objects.create(name="Deep", identifier="deep", platform="picqer", method="GET",
                                       entity="GET /customers", client=picqer, request_parameters=DEEP_900)
    Outgoing.objects.create(name="Deep out", identifier="deep-out", platform="picqer", method="POST",
                            entity="POST /customers", client=picqer, payload=DEEP_900)
    Transformer.objects.create(name="Deep steps", identifier="deep-steps", steps=[
        {"kind": "merge_defaults", "settings": {"defaults": DEEP_900}}])
    for url in pages_of(incoming) + [reverse("connections:outgoing_edit", args=[Outgoing.objects.get().pk]),
                                     reverse("connections:transformer_edit", args=[Transformer.objects.get().pk])]:
        response = signed_in.get(url)
        assert response.status_code == 200, url
    assert signed_in.post(reverse("connections:incoming_delete", args=[incoming.pk])).status_code == 302
    assert not Incoming.objects.filter(pk=incoming.pk).exists()


def test_an_enabled_cron_that_never_happens_breaks_neither_the_page_nor_its_disable_button(signed_in, picqer):
    incoming = Incoming.objects.create(name="In", identifier="in", platform="picqer", method="GET",
                                       entity="GET /customers", client=picqer)
    never = CrontabSchedule.objects.create(minute="0", hour="0", day_of_month="31", month_of_year="2")
    task = PeriodicTask.objects.create(name="Never", task="connections.run_incoming", args=f"[{incoming.pk}]",
                                       crontab=never, enabled=True)

    assert signed_in.get(reverse("connections:scheduler_list")).status_code == 200
    response = signed_in.post(reverse("connections:scheduler_toggle", args=[task.pk]), follow=True)
    assert response.status_code == 200
    task.refresh_from_db()
    assert not task.enabled
