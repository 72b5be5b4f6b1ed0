"""The create-or-update and incremental-fetch pages: prefilled per platform, clear errors, reset, review."""
from django.urls import reverse

from connections import engine
from connections.models import Task
from storages import store
from storages.models import Storage
from sync.models import CreateOrUpdate, Watermark

from .conftest import build_sync


def test_outgoing_page_prefills_pipedrive_and_creates_a_mapping_storage(signed_in, source, destination):
    sync = build_sync(source, destination)
    CreateOrUpdate.objects.all().delete()
    page = signed_in.get(reverse("sync:outgoing", args=[sync.outgoing.pk])).content.decode()
    assert 'value="PUT /v1/organizations/{id}" selected' in page
    assert 'value="data.id"' in page and 'value="GET /v1/organizations/search" selected' in page

    response = signed_in.post(reverse("sync:outgoing", args=[sync.outgoing.pk]), {
        "enabled": "on", "update_entity": "PUT /v1/organizations/{id}", "id_parameter": "id", "storage": "",
        "source_key": "&{idcustomer}", "response_id_path": "data.id", "lookup_entity": "", "lookup_query": "",
        "lookup_id_path": ""})
    assert response.status_code == 302
    plan = CreateOrUpdate.objects.get(outgoing=sync.outgoing)
    assert plan.enabled and plan.storage.name == "Pipedrive organizations ID mapping"
    assert "Create or update" in signed_in.get(sync.outgoing.get_absolute_url()).content.decode()


def test_outgoing_page_names_a_path_parameter_that_does_not_exist(signed_in, source, destination):
    sync = build_sync(source, destination)
    response = signed_in.post(reverse("sync:outgoing", args=[sync.outgoing.pk]), {
        "enabled": "on", "update_entity": "PUT /v1/organizations/{id}", "id_parameter": "org_id",
        "storage": sync.storage.pk, "source_key": "&{idcustomer}", "response_id_path": "data..id"})
    text = response.content.decode()
    assert response.status_code == 200 and "Not saved." in text
    assert "has the path parameters: id" in text and "Not a valid path" in text


def test_outgoing_page_says_what_is_wrong_with_the_lookup_query_and_keeps_it(signed_in, source, destination):
    """The lookup query is the configuration forms' JSON field: line and column, the kind typed, an example."""
    sync = build_sync(source, destination)
    url = reverse("sync:outgoing", args=[sync.outgoing.pk])
    data = {"enabled": "on", "update_entity": "PUT /v1/organizations/{id}", "id_parameter": "id",
            "storage": sync.storage.pk, "source_key": "&{idcustomer}", "response_id_path": "data.id",
            "lookup_entity": "GET /v1/organizations/search", "lookup_id_path": "data.items[0].item.id"}
    expected = {
        '{"term": \n &{payload.name}}': "Invalid JSON at line 2, column 2: Expecting value.",
        '["&{payload.name}"]': 'Must be a JSON object (e.g. {"term": "&{payload.name}"}), not a list.',
        '{"term": NaN}': "This JSON can't be saved: it holds NaN at “term”: JSON has no NaN or Infinity "
                         "(nor numbers beyond ±1.8e308).",
    }
    for typed, message in expected.items():
        response = signed_in.post(url, {**data, "lookup_query": typed})
        assert response.status_code == 200
        assert response.context["form"].errors["lookup_query"] == [message]
        assert response.context["form"]["lookup_query"].value() == typed  # shown again as typed


def test_incoming_page_adds_the_filter_shows_the_watermark_and_resets_it(signed_in, source, destination):
    sync = build_sync(source, destination)
    sync.incoming.request_parameters = {}
    sync.incoming.save()
    Watermark.objects.all().delete()
    page = signed_in.get(reverse("sync:incoming", args=[sync.incoming.pk])).content.decode()
    assert "updated_after" in page and 'value="Europe/Amsterdam"' in page  # Picqer's prefill

    signed_in.post(reverse("sync:incoming", args=[sync.incoming.pk]), {
        "enabled": "on", "source": "run_start", "overlap_seconds": "60", "time_zone": "UTC", "add_filter": "on"})
    sync.incoming.refresh_from_db()
    assert sync.incoming.request_parameters == {"query": {"updated_after": "&{watermark:%Y-%m-%d %H:%M:%S}"}}

    run = engine.execute_run(engine.start_run(sync.incoming).pk)
    mark = Watermark.objects.get()
    assert mark.value == run.started_at
    page = signed_in.get(reverse("sync:incoming", args=[sync.incoming.pk])).content.decode()
    assert f"run {run.pk}" in page and "Reset watermark" in page

    signed_in.post(reverse("sync:incoming_reset", args=[sync.incoming.pk]))
    assert Watermark.objects.get().value is None


def test_a_task_needing_review_offers_to_record_the_id_and_then_updates(signed_in, source, destination):
    sync = build_sync(source, destination, incremental=False)
    source.customers = {1: source.customers[1]}
    destination.organizations[4] = {"name": "Customer 1"}
    store.save(sync.storage, "1", {"creating": True, "task": 99, "at": "2026-01-01T00:00:00+00:00"})
    engine.execute_run(engine.start_run(sync.incoming).pk)
    engine.process_tasks(sync.route.pk)
    task = Task.objects.get()
    page = signed_in.get(task.get_absolute_url()).content.decode()
    assert "Needs review" in page and "Record the id and update it" in page

    signed_in.post(reverse("sync:task_review", args=[task.pk]), {"action": "record", "destination_id": "4"})
    engine.process_tasks(sync.route.pk)
    task.refresh_from_db()
    assert task.status == Task.Status.FINISHED
    assert destination.creates == 0 and destination.updates == 1 and destination.organizations[4]["name"] == \
        "Customer 1"
    assert store.get(Storage.objects.get(), "1")["id"] == 4


def test_prefills_per_platform():
    from types import SimpleNamespace

    from sync.forms import prefill

    copper = prefill(SimpleNamespace(platform="copper", entity="POST /companies"))
    assert copper["update_entity"] == "PUT /companies/{id}" and copper["lookup_entity"] == "POST /companies/search"
    picqer = prefill(SimpleNamespace(platform="picqer", entity="POST /customers"))
    assert (picqer["update_entity"], picqer["id_parameter"], picqer["response_id_path"]) == (
        "PUT /customers/{idcustomer}", "idcustomer", "idcustomer")
    assert "lookup_entity" not in picqer  # no search to look a lost create up: such tasks stop for review


def test_the_outgoing_page_says_how_many_tasks_need_review(signed_in, source, destination):
    sync = build_sync(source, destination, incremental=False)
    source.customers = {1: source.customers[1]}
    store.save(sync.storage, "1", {"creating": True, "task": 99, "at": "2026-01-01T00:00:00+00:00"})
    engine.execute_run(engine.start_run(sync.incoming).pk)
    engine.process_tasks(sync.route.pk)
    task = Task.objects.get()

    page = signed_in.get(sync.outgoing.get_absolute_url()).content.decode()
    assert "1 task needs review" in page and f'href="/tasks/{task.pk}/"' in page
