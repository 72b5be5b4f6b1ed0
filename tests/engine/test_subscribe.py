"""Running an incoming: pages -> entities -> tasks, without a broker."""
import pytest

from connections import engine
from connections.models import IncomingTransformer, Route, Run, Task, Transformer
from tests.fakes.server import Reply, default_record

from .conftest import build_pipeline


def fail_page(fake, number: int, reply: Reply) -> None:
    """The fake answers its `number`th list request with `reply`."""
    original = fake.list_page
    calls = {"n": 0}

    def answer(request):
        calls["n"] += 1
        return reply if calls["n"] == number else original(request)

    fake.list_page = answer


def test_three_pages_make_one_task_per_entity(pipeline):
    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FINISHED, run.error
    assert (run.pages, run.entities, run.filtered, run.tasks_created) == (4, 300, 0, 300)
    tasks = Task.objects.filter(route=pipeline.route)
    assert tasks.count() == 300
    assert set(tasks.values_list("status", flat=True)) == {Task.Status.NEW}
    first = tasks.get(data__id=1)
    assert first.data["payload"] == {"name": "Record 1", "email": "user1@example.com"}
    assert first.run == run
    # the source saw offsets 0, 100, 200, 300 (the empty 4th page ends paging)
    assert [r.query.get("offset") for r in pipeline.source.received] == ["0", "100", "200", "300"]
    assert run.request_logs.count() == 4
    assert run.started_at and run.finished_at


def test_running_again_creates_no_duplicate_tasks(pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    second = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert second.status == Run.Status.FINISHED
    assert second.entities == 300
    assert second.tasks_created == 0
    assert Task.objects.filter(route=pipeline.route).count() == 300


def test_a_changed_record_makes_a_new_task(pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    pipeline.source._record = lambda i: {**default_record(i), **({"name": "Record 7 (renamed)"} if i == 7 else {})}

    second = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert second.tasks_created == 1
    assert Task.objects.get(run=second).data["payload"]["name"] == "Record 7 (renamed)"


def test_a_redelivered_run_after_a_crash_mid_run_creates_no_duplicates(pipeline):
    """Records without ids: task keys are positions in the run, and the same run executed again
    (a worker died, the message came back) makes the same keys."""
    pipeline.source._record = lambda i: {"name": f"Anonymous {i}", "email": f"a{i}@example.com"}
    fail_page(pipeline.source, 3, Reply(400, {"error": True}))
    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)
    assert run.status == Run.Status.FAILED and run.pages == 2
    assert Task.objects.filter(route=pipeline.route).count() == 200

    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, finished_at=None)  # redelivered
    again = engine.execute_run(run.pk)

    assert again.status == Run.Status.FINISHED, again.error
    assert Task.objects.filter(route=pipeline.route).count() == 300
    assert again.tasks_created == 300
    assert again.pages == 4 and again.entities == 300  # counted afresh, not added to the first attempt


def test_source_failing_on_page_2_fails_the_run_and_keeps_page_1(pipeline):
    fail_page(pipeline.source, 2, Reply(400, {"error": True, "error_message": "offset too large"}))

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED
    assert run.error_step == "page 2"
    assert "400" in run.error and "offset too large" in run.error
    assert run.pages == 1 and run.entities == 100
    assert Task.objects.filter(route=pipeline.route).count() == 100


def test_entity_filter_counts_raw_records_and_drops_filtered(pipeline):
    only_active = Transformer.objects.create(name="Only active", identifier="only-active", steps=[
        {"kind": "filter", "settings": {"conditions": [{"key": "active", "op": "equals", "value": True}]}},
    ])
    IncomingTransformer.objects.create(incoming=pipeline.incoming, transformer=only_active, stage="entity")

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FINISHED, run.error
    assert run.entities == 300  # raw, before filtering: paging was not cut short
    assert run.filtered == 100  # every third record is inactive
    assert run.tasks_created == 200


def test_a_transformer_error_names_the_step(pipeline):
    broken = Transformer.objects.create(name="Needs sku", identifier="needs-sku", steps=[
        {"kind": "copy", "settings": {"source": "sku", "target": "payload.sku"}},
    ])
    IncomingTransformer.objects.create(incoming=pipeline.incoming, transformer=broken, stage="entity")

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED
    assert run.error_step == "page 1, entity 1"
    assert "sku" in run.error


def test_an_input_transformer_error_fails_the_run_before_any_request(pipeline):
    broken = Transformer.objects.create(name="Needs sku", identifier="needs-sku", steps=[
        {"kind": "copy", "settings": {"source": "sku", "target": "query.sku"}},
    ])
    IncomingTransformer.objects.create(incoming=pipeline.incoming, transformer=broken, stage="input")

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED
    assert run.error_step == "input transformers"
    assert run.error.startswith("Transformer error:") and "sku" in run.error
    assert run.pages == 0 and not Task.objects.exists()


@pytest.mark.django_db(transaction=True)  # the fake's thread writes the flag: it needs its own commit
def test_cancel_between_pages(pipeline):
    run = engine.start_run(pipeline.incoming)
    original = pipeline.source.list_page

    def cancel_after_first(request):
        reply = original(request)
        if request.query.get("offset") == "0":
            Run.objects.filter(pk=run.pk).update(cancel_requested=True)
        return reply

    pipeline.source.list_page = cancel_after_first

    run = engine.execute_run(run.pk)

    assert run.status == Run.Status.CANCELLED
    assert run.pages == 1
    assert Task.objects.filter(route=pipeline.route).count() == 100


def test_disabled_routes_get_no_tasks_and_two_routes_get_one_task_each(pipeline, source, destination):
    other = build_pipeline(source, destination, name="second")
    Route.objects.filter(pk=other.route.pk).update(incoming=pipeline.incoming)
    Route.objects.filter(pk=pipeline.route.pk).update(enabled=False)

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FINISHED, run.error
    assert Task.objects.filter(route=pipeline.route).count() == 0
    assert Task.objects.filter(route=other.route).count() == 300
