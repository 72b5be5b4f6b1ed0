"""The Routes, Runs, Tasks, Schedulers pages and the dashboard home."""
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from alumio_lite.celery import app
from clients.models import HttpClient, RequestLog
from connections import engine
from connections.models import Route, Run, Task, Transformer, WorkerHeartbeat


@pytest.fixture
def eager():
    """Celery tasks run in this process, when the transaction commits."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def test_route_list_counts_tasks_by_status_in_one_query(signed_in, pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    engine.process_tasks(pipeline.route.pk, max_tasks=10)
    url = reverse("connections:route_list")
    signed_in.get(url)  # warm the session

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_route:
        response = signed_in.get(url)
    second = Route.objects.get(pk=pipeline.route.pk)
    second.pk, second.identifier = None, "copy"
    second.save()
    with CaptureQueriesContext(connection) as two_routes:
        signed_in.get(url)

    html = response.content.decode()
    assert "Customers to persons" in html and "Run now" in html
    new = f'?route={pipeline.route.pk}&status=new" title="New tasks">290 new<'
    finished = f'?route={pipeline.route.pk}&status=finished" title="Finished tasks">10 finished<'
    assert new in html and finished in html
    assert html.index(new) < html.index(finished)  # in the order of the statuses
    assert "status=failed" not in html  # no failure: no badge
    assert f'href="{pipeline.incoming.get_absolute_url()}">Picqer customers<' in html
    assert f'href="{pipeline.outgoing.get_absolute_url()}">Pipedrive persons<' in html
    assert len(two_routes) == len(one_route)  # the counts are one aggregate, not a query per route


def test_create_a_route_with_ordered_transformers(signed_in, pipeline):
    first = Transformer.objects.create(name="First", identifier="first", steps=[])
    second = Transformer.objects.create(name="Second", identifier="second", steps=[])

    response = signed_in.post(reverse("connections:route_create"), {
        "name": "Orders to CRM", "identifier": "", "incoming": pipeline.incoming.pk,
        "outgoing": pipeline.outgoing.pk, "transformers": [second.pk, first.pk], "enabled": "on",
        "processing": "scheduled", "retry_on_failure": "on", "max_attempts": 3, "backoff_seconds": 10,
    })

    route = Route.objects.get(identifier="orders-to-crm")
    assert response.status_code == 302 and response.url == route.get_absolute_url()
    assert not route.realtime and route.max_attempts == 3
    assert [rt.transformer.name for rt in route.routetransformer_set.all()] == ["Second", "First"]
    page = signed_in.get(route.get_absolute_url()).content.decode()
    assert "1. Second" in page and "2. First" in page and "Scheduled" in page


def test_route_form_errors_are_shown_and_nothing_is_saved(signed_in, pipeline):
    response = signed_in.post(reverse("connections:route_create"), {
        "name": "Broken", "incoming": "", "outgoing": pipeline.outgoing.pk, "processing": "realtime",
        "max_attempts": 0, "backoff_seconds": 5, "transformers": ["999"],
    })

    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required" in html
    assert "no longer exists" in html
    assert 'value="Broken"' in html  # what was typed is kept
    assert not Route.objects.filter(name="Broken").exists()


def test_run_now_runs_and_publishes_and_the_run_page_shows_it(signed_in, pipeline, eager,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("connections:route_run", args=[pipeline.route.pk]))

    run = Run.objects.get()
    assert response.url == run.get_absolute_url()
    assert run.status == Run.Status.FINISHED and run.tasks_created == 300
    assert Task.objects.filter(status=Task.Status.FINISHED).count() == 300
    page = signed_in.get(run.get_absolute_url()).content.decode()
    assert 'id="run-tasks">300<' in page
    assert "hx-trigger" not in page  # finished: no more polling
    listing = signed_in.get(reverse("connections:run_list")).content.decode()
    assert f'href="{pipeline.incoming.get_absolute_url()}">Picqer customers<' in listing
    assert f'?run={run.pk}">300<' in listing  # the tasks it created, one click away


def test_a_short_run_shows_its_duration_in_seconds_not_zero_minutes(signed_in, pipeline):
    run = engine.start_run(pipeline.incoming)
    started = timezone.now() - timedelta(minutes=5)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.FINISHED, started_at=started,
                                         finished_at=started + timedelta(seconds=3.25))

    detail = signed_in.get(run.get_absolute_url()).content.decode()
    listing = signed_in.get(reverse("connections:run_list")).content.decode()

    assert 'id="run-duration">3.2 s<' in detail
    assert "<td>3.2 s</td>" in listing
    assert "0\xa0minutes" not in detail + listing and "0 minutes" not in detail + listing


def test_a_queued_run_without_a_live_worker_says_what_to_do(signed_in, pipeline):
    run = engine.start_run(pipeline.incoming)
    WorkerHeartbeat.objects.create(hostname="celery@old", seen_at=timezone.now() - timedelta(minutes=5))

    html = signed_in.get(run.get_absolute_url()).content.decode()
    assert 'id="no-worker"' in html and "bin/start" in html

    WorkerHeartbeat.objects.create(hostname="celery@box")  # a worker reports in
    html = signed_in.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "Waiting for a worker" in html and 'id="no-worker"' not in html


def test_a_running_run_polls_and_can_be_cancelled(signed_in, pipeline):
    run = engine.start_run(pipeline.incoming)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, pages=2, entities=200)

    partial = signed_in.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="run-progress"' in partial
    assert 'hx-trigger="every 1s"' in partial and "<html" not in partial
    assert "Reading page 3" in partial

    signed_in.post(reverse("connections:run_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.cancel_requested


def test_task_list_filters_and_bulk_actions(signed_in, pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    failed = list(Task.objects.order_by("pk")[:3])
    Task.objects.filter(pk__in=[t.pk for t in failed]).update(status=Task.Status.FAILED, last_error="HTTP 400")

    page = signed_in.get(reverse("connections:task_list"), {"status": "failed", "route": pipeline.route.pk})
    html = page.content.decode()
    assert html.count('name="task" value=') == 3
    assert "3 tasks" in html
    bad = signed_in.get(reverse("connections:task_list"), {"date": "yesterday"}).content.decode()
    assert "Dates look like" in bad

    retried = signed_in.post(reverse("connections:task_bulk"), {"task": [failed[0].pk], "action": "retry"},
                             follow=True).content.decode()
    skipped = signed_in.post(reverse("connections:task_bulk"), {"task": [failed[1].pk], "action": "skip"},
                             follow=True).content.decode()
    assert "1 task queued again." in retried and "1 task skipped." in skipped  # not "1 tasks"

    statuses = dict(Task.objects.filter(pk__in=[t.pk for t in failed]).values_list("pk", "status"))
    assert statuses == {failed[0].pk: "new", failed[1].pk: "skipped", failed[2].pk: "failed"}


def test_task_detail_shows_data_error_response_and_request_logs(signed_in, pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    Task.objects.exclude(data__id=2).update(status=Task.Status.SKIPPED)
    pipeline.destination.fail_next(400, body={"success": False, "error": "Email already used"})
    engine.process_tasks(pipeline.route.pk)
    task = Task.objects.get(data__id=2)

    html = signed_in.get(task.get_absolute_url()).content.decode()

    assert "user2@example.com" in html
    assert "Email already used" in html and 'id="task-response-status">400<' in html
    log = task.request_logs.get()
    assert log.get_absolute_url() in html
    assert pipeline.destination.api_token not in html  # secrets never rendered


def test_schedulers_create_invalid_toggle_delete(signed_in, pipeline):
    url = reverse("connections:scheduler_list")
    bad = signed_in.post(url, {"name": "Nightly", "kind": "run_incoming", "incoming": pipeline.incoming.pk,
                               "cron": "0 25 * * *", "enabled": "on"})
    assert bad.status_code == 200
    assert "The hour field “25” is not valid" in bad.content.decode()
    assert not PeriodicTask.objects.filter(name="Nightly").exists()

    signed_in.post(url, {"name": "Nightly", "kind": "run_incoming", "incoming": pipeline.incoming.pk,
                         "cron": "0 2 * * *", "enabled": "on"})
    task = PeriodicTask.objects.get(name="Nightly")
    html = signed_in.get(url).content.decode()
    assert "Run incoming “Picqer customers”" in html and "0 2 * * *" in html
    tomorrow_2am = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d 02:00")
    today_2am = timezone.now().strftime("%Y-%m-%d 02:00")
    assert tomorrow_2am in html or today_2am in html  # next run shown

    missing_route = signed_in.post(url, {"name": "Publish", "kind": "process_route", "cron": "*/5 * * * *"})
    assert "Choose the route whose tasks to process." in missing_route.content.decode()

    signed_in.post(reverse("connections:scheduler_toggle", args=[task.pk]))
    task.refresh_from_db()
    assert not task.enabled
    signed_in.post(reverse("connections:scheduler_delete", args=[task.pk]))
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_dashboard_shows_counts_failures_requests_and_grants(signed_in, pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    Task.objects.filter(data__id__lte=2).update(status=Task.Status.FAILED, last_error="HTTP 400: no")
    HttpClient.objects.filter(pk=pipeline.outgoing.client.pk).update(auth_state="needs_grant",
                                                                       auth_error="invalid_grant")
    RequestLog.objects.filter(pk=RequestLog.objects.first().pk).update(
        created_at=timezone.now() - timedelta(hours=3))

    html = signed_in.get(reverse("home")).content.decode()

    assert 'id="count-new">298<' in html and 'id="count-failed">2<' in html
    assert "HTTP 400: no" in html
    assert "4 logged requests in the last 24 hours" in html
    assert html.count('class="bar"') == 24
    assert 'height="100"' in html  # the busiest hour is the full bar
    assert "Fake pipedrive" in html and "Needs grant" in html
    assert "Workers" in html


def test_a_worker_seen_seconds_ago_reads_so(signed_in):
    WorkerHeartbeat.objects.create(hostname="celery@box", seen_at=timezone.now() - timedelta(seconds=20))

    html = signed_in.get(reverse("home")).content.decode()

    assert re.search(r"celery@box · seen 2\d\xa0seconds ago", html)  # timesince said "0 minutes ago"


@pytest.mark.parametrize("model", ["incoming", "outgoing", "route", "run", "task", "transformer"])
def test_admin_pages_open(signed_in, pipeline, model):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    response = signed_in.get(reverse(f"admin:connections_{model}_changelist"))
    assert response.status_code == 200
    assert pipeline.source.api_key not in response.content.decode()


def test_run_now_on_the_incoming_page_starts_a_run(signed_in, pipeline, eager, django_capture_on_commit_callbacks):
    page = signed_in.get(pipeline.incoming.get_absolute_url()).content.decode()
    start_url = reverse("connections:run_start", args=[pipeline.incoming.pk])
    assert f'action="{start_url}"' in page and "Run now" in page
    assert pipeline.route.get_absolute_url() in page  # "Used by the route" links to the route itself

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(start_url)

    run = Run.objects.get(incoming=pipeline.incoming)
    assert response.url == run.get_absolute_url()
    assert run.status == Run.Status.FINISHED and run.tasks_created == 300


def test_task_list_date_filter_keeps_one_local_day(signed_in, pipeline):
    engine.execute_run(engine.start_run(pipeline.incoming).pk)
    tasks = list(Task.objects.order_by("pk")[:3])
    tz = timezone.get_current_timezone()
    # the first and last instant of 2 January local time, and one just past it
    start = timezone.make_aware(datetime(2026, 1, 2), tz)
    Task.objects.filter(pk=tasks[0].pk).update(created_at=start)
    Task.objects.filter(pk=tasks[1].pk).update(created_at=start + timedelta(hours=24) - timedelta(microseconds=1))
    Task.objects.filter(pk=tasks[2].pk).update(created_at=start + timedelta(hours=24))

    html = signed_in.get(reverse("connections:task_list"), {"date": "2026-01-02"}).content.decode()

    assert html.count('name="task" value=') == 2
    assert f'value="{tasks[0].pk}"' in html and f'value="{tasks[1].pk}"' in html
    assert 'value="2026-01-02"' in html  # the filter field keeps the day


def test_run_now_on_a_scheduled_route_says_it_publishes_at_once(signed_in, pipeline, eager):
    Route.objects.filter(pk=pipeline.route.pk).update(realtime=False)

    detail = signed_in.get(pipeline.route.get_absolute_url()).content.decode()
    assert "“Run now” fetches and publishes at once" in detail
    page = signed_in.post(reverse("connections:route_run", args=[pipeline.route.pk]), follow=True).content.decode()
    assert "published as soon as it ends, not at the route&#x27;s schedule" in page
