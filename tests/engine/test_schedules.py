"""Schedulers and the default periodic jobs (django-celery-beat rows)."""
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from connections import schedules


@pytest.mark.parametrize("expression, problem", [
    ("* * * *", "5 fields"),
    ("61 * * * *", "minute field “61”"),
    ("0 25 * * *", "hour field “25”"),
    ("0 6 * * mon-foo", "day of week field"),
])
def test_invalid_cron_names_the_field(expression, problem):
    with pytest.raises(schedules.CronError, match=problem):
        schedules.parse_cron(expression)


def test_next_run_of_a_weekday_schedule(db, pipeline):
    task = schedules.save_scheduler(name="Morning import", kind="run_incoming", target_id=pipeline.incoming.pk,
                                    cron="30 6 * * 1-5")
    monday_evening = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)

    assert schedules.next_run(task, now=monday_evening) == datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
    assert json.loads(task.args) == [pipeline.incoming.pk]
    assert task.task == "connections.run_incoming"
    task.enabled = False
    assert schedules.next_run(task) is None


def test_setup_schedules_is_idempotent(db):
    call_command("setup_schedules")
    call_command("setup_schedules")

    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {"system: heartbeat", "system: repair", "system: process due tasks", "system: retention",
            "system: webhook requests", "system: webhook retention"} <= names
    assert PeriodicTask.objects.filter(name__startswith="system: ").count() == len(schedules.DEFAULT_JOBS)
    heartbeat = PeriodicTask.objects.get(name="system: heartbeat")
    assert (heartbeat.interval.every, heartbeat.interval.period) == (30, "seconds")


def test_an_overdue_interval_job_is_due_now_not_in_the_past(db):
    call_command("setup_schedules")
    heartbeat = PeriodicTask.objects.get(name="system: heartbeat")
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    heartbeat.last_run_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # beat was stopped for hours

    assert schedules.next_run(heartbeat, now=now) == now
    heartbeat.last_run_at = datetime(2026, 11, 24, 11, 59, 50, tzinfo=UTC)
    assert schedules.next_run(heartbeat, now=now) == datetime(2026, 11, 24, 12, 0, 20, tzinfo=UTC)
