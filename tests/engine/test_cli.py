"""The engine's management commands, in-process (--sync): no broker needed."""
import pytest
from django.core.management import CommandError, call_command

from connections.models import Run, Task


def test_run_incoming_sync_prints_progress_and_publishes_realtime_routes(pipeline, capsys,
                                                                          django_capture_on_commit_callbacks):
    # realtime publication starts once a page's tasks are committed
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_incoming", pipeline.incoming.identifier, "--sync")

    out = capsys.readouterr().out
    assert "page 1: 100 entities so far" in out
    assert "4 pages, 300 entities, 0 filtered, 300 tasks created" in out
    assert Run.objects.get().trigger == "cli"
    assert Task.objects.filter(status=Task.Status.FINISHED).count() == 300
    assert len(pipeline.destination.published) == 300


def test_run_route_sync_runs_then_publishes(db, source, destination, capsys):
    from .conftest import build_pipeline

    pipeline = build_pipeline(source, destination, realtime=False)
    call_command("run_route", str(pipeline.route.pk), "--sync")

    out = capsys.readouterr().out
    assert "300 tasks processed: 300 finished" in out
    assert len(destination.published) == 300


def test_process_tasks_sync_with_a_limit(pipeline, capsys):
    from connections import engine

    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    call_command("process_tasks", "--route", pipeline.route.identifier, "--sync", "--limit", "120")

    out = capsys.readouterr().out
    assert "300 due tasks" in out and "120 tasks processed: 120 finished" in out
    assert Task.objects.filter(status=Task.Status.NEW).count() == 180


def test_unknown_id_is_a_clear_error(pipeline):
    with pytest.raises(CommandError, match="no Incoming configuration with id or identifier 'nope'"):
        call_command("run_incoming", "nope", "--sync")


def test_failed_run_exits_non_zero(pipeline, capsys):
    pipeline.source.fail_next(401)
    with pytest.raises(SystemExit):
        call_command("run_incoming", str(pipeline.incoming.pk), "--sync")
    assert "Error at page 1" in capsys.readouterr().out


def test_a_second_run_over_unchanged_records_says_why_it_made_no_task(pipeline, capsys):
    import re

    call_command("run_incoming", pipeline.incoming.identifier, "--sync")
    call_command("run_incoming", pipeline.incoming.identifier, "--sync")

    second = capsys.readouterr().out.split("Run ")[-1]
    assert "300 entities, 0 filtered, 0 tasks created" in second
    assert "No new tasks: the 300 entities read are unchanged since an earlier run" in second
    # the runner is named like Celery's workers ("name@host"), not "host:pid"
    assert all(re.match(r"^\S+@\S+", run.worker) for run in Run.objects.all())
