"""Records a platform should never send: NaN, Infinity, 1e309, lone surrogates, runaway transformers.

The policy (connections/json_policy.py) is the same on SQLite and PostgreSQL: the run stops at
the record with an error naming it and the value; nothing is dropped without a word.
"""
import pytest

from connections import engine
from connections.models import Route, RouteTransformer, Run, Task, Transformer
from tests.fakes.server import Reply, default_record

from .conftest import build_pipeline


def with_bad_record(i: int, bad: dict) -> dict:
    return {**default_record(i), **bad} if i == 3 else default_record(i)


@pytest.mark.parametrize("bad, shown", [
    ({"email": float("nan")}, "NaN at “payload.email”"),
    ({"email": float("inf")}, "Infinity at “payload.email”"),
    ({"email": float("-inf")}, "-Infinity at “payload.email”"),
    ({"email": "broken \ud800 text"}, "lone surrogate"),
    ({"email": "nul \x00 byte"}, "NUL character"),
])
def test_a_record_json_cannot_hold_fails_the_run_naming_it(pipeline, bad, shown):
    pipeline.source._record = lambda i: with_bad_record(i, bad)

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED  # not Finished with a task silently missing
    assert run.error_step == "page 1, entity 3"  # record ids start at 1
    assert shown in run.error and "Value setter" in run.error
    assert Task.objects.filter(route=pipeline.route).count() == 0  # the page stopped before its batch


def test_a_number_beyond_a_double_fails_the_run_naming_it(pipeline):
    body = '[{"id": 1, "name": "Fine", "email": "a@example.com"}, {"id": 2, "name": "Big", "email": 1e309}]'
    pipeline.source.list_page = lambda request: Reply(200, body if request.query.get("offset") == "0" else "[]")

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED
    assert run.error_step == "page 1, entity 2"
    assert "Infinity at “payload.email”" in run.error


def test_a_transformer_that_replaces_the_bad_value_lets_the_run_through(pipeline):
    pipeline.source._record = lambda i: with_bad_record(i, {"email": float("nan")})
    fix = Transformer.objects.create(name="No NaN", identifier="no-nan", steps=[
        {"kind": "value_setter", "settings": {"key": "email", "value": "unknown@example.com"}}])
    RouteTransformer.objects.filter(route=pipeline.route).update(position=1)
    RouteTransformer.objects.create(route=pipeline.route, transformer=fix, position=0)  # before the mapping

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FINISHED, run.error
    assert run.tasks_created == 300


def test_pages_are_written_in_bounded_batches(pipeline, settings):
    """With a batch of 7 rows, a bad 19th record leaves the first two batches (14 tasks) written."""
    settings.TASK_INSERT_BATCH = 7
    pipeline.source._record = lambda i: {**default_record(i), "email": float("nan")} if i == 19 else default_record(i)

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED and run.error_step == "page 1, entity 19"
    assert Task.objects.filter(route=pipeline.route).count() == 14


def test_a_record_that_becomes_too_many_tasks_is_stopped_with_a_clear_error(pipeline, settings):
    settings.RECORD_TASK_CAP = 3
    for n in range(4):  # four routes: every record becomes four tasks
        route = Route.objects.create(name=f"Copy {n}", identifier=f"copy-{n}", incoming=pipeline.incoming,
                                     outgoing=pipeline.outgoing)
        RouteTransformer.objects.create(route=route, transformer=pipeline.route.transformers_in_order()[0])
    Route.objects.filter(pk=pipeline.route.pk).update(enabled=False)

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED
    assert run.error_step == "page 1, entity 1"
    assert "more than 3 tasks" in run.error and "RECORD_TASK_CAP" in run.error
    assert Task.objects.count() == 0


def test_a_page_that_becomes_too_many_tasks_is_stopped_with_a_clear_error(pipeline, settings):
    settings.PAGE_TASK_CAP = 50

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED
    assert run.error_step == "page 1"
    assert "this page became more than 50 tasks" in run.error and "PAGE_TASK_CAP" in run.error


def test_a_record_too_large_for_one_task_is_stopped_with_a_clear_error(pipeline, settings):
    settings.RECORD_MAX_CHARS = 2_000
    pipeline.source._record = lambda i: {**default_record(i), "name": "x" * 5_000} if i == 2 else default_record(i)

    run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

    assert run.status == Run.Status.FAILED and run.error_step == "page 1, entity 2"
    assert "RECORD_MAX_CHARS" in run.error


@pytest.fixture
def pipeline(db, source, destination):
    return build_pipeline(source, destination)
