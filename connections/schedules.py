"""Schedulers: cron expressions that Celery beat runs from the database (django-celery-beat).

A scheduler is a django-celery-beat PeriodicTask with a CrontabSchedule: beat's
DatabaseScheduler notices changes without a restart, and the rows survive restarts of every
process. Two kinds are offered to users:

- "Run incoming": task connections.run_incoming with args [incoming id];
- "Process route": task connections.process_route with args [route id] (a route with scheduled
  processing publishes its queued tasks only then).

The default periodic jobs (heartbeat, repair, due tasks, retention) are PeriodicTasks too,
installed by `install_default_jobs()` (the `setup_schedules` command).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
CRON_LABELS = ("minute", "hour", "day of month", "month", "day of week")

KINDS = {
    "run_incoming": ("connections.run_incoming", "Run incoming"),
    "process_route": ("connections.process_route", "Process route"),
}
SYSTEM_PREFIX = "system: "


class CronError(ValueError):
    pass


def parse_cron(expression: str) -> dict[str, str]:
    """Five cron fields ("*/15 6-18 * * 1-5") as CrontabSchedule's keyword arguments.

    Raises CronError with the field that is wrong, so the form can say it.
    """
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(
            f"A cron expression has 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}; "
            "for example “0 6 * * 1-5” is 06:00 on weekdays.")
    fields = dict(zip(CRON_FIELDS, parts, strict=True))
    for name, label in zip(CRON_FIELDS, CRON_LABELS, strict=True):
        try:
            crontab(**{name: fields[name]})
        except (ValueError, TypeError, IndexError) as exc:
            raise CronError(f"The {label} field “{fields[name]}” is not valid: {exc}") from None
    try:  # each field may be fine and the whole never happen (“0 0 31 2 *”): beat would fail on it
        crontab(**fields).remaining_estimate(timezone.now())
    except CRON_ERRORS as exc:
        raise CronError(f"“{expression}” never happens: {exc}") from None
    return fields


# What celery's crontab raises for expressions it can't use (a bad step, a date that never comes).
CRON_ERRORS = (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError, RuntimeError)


def cron_text(schedule: CrontabSchedule) -> str:
    return " ".join(str(getattr(schedule, name)) for name in CRON_FIELDS)


def next_run(task: PeriodicTask, now: datetime | None = None) -> datetime | None:
    """When beat will next start this job (None when disabled, or when its saved cron never happens)."""
    if not task.enabled:
        return None
    now = now or timezone.now()
    if task.crontab_id:
        try:
            return _next_cron_run(task, now)
        except CRON_ERRORS:  # saved before parse_cron checked whole expressions: the list still shows
            return None
    if task.interval_id:
        every = timedelta(**{task.interval.period: task.interval.every})
        # A job whose time has come (beat stopped, or not yet saved its last run) is due now,
        # never "next" at a moment already past.
        return max(task.last_run_at + every, now) if task.last_run_at else now
    return None


def _next_cron_run(task: PeriodicTask, now: datetime) -> datetime:
    tz = task.crontab.timezone
    local_now = now.astimezone(tz)
    fields = {name: getattr(task.crontab, name) for name in CRON_FIELDS}
    schedule = crontab(**fields, nowfun=lambda: local_now)
    base = max(filter(None, [task.last_run_at, now])).astimezone(tz)
    when = local_now + schedule.remaining_estimate(base)
    # crontab estimates land a hair before the minute; show the minute it means
    return (when + timedelta(seconds=1)).replace(second=0, microsecond=0).astimezone(now.tzinfo)


@dataclass
class Target:
    kind: str
    target_id: int


def target_of(task: PeriodicTask) -> Target | None:
    for kind, (name, _label) in KINDS.items():
        if task.task == name:
            args = json.loads(task.args or "[]")
            if args:
                return Target(kind, int(args[0]))
    return None


def save_scheduler(*, name: str, kind: str, target_id: int, cron: str, enabled: bool = True,
                   task: PeriodicTask | None = None) -> PeriodicTask:
    """Create or update a user scheduler."""
    fields = parse_cron(cron)
    schedule, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)
    task = task or PeriodicTask()
    task.name = name
    task.task = KINDS[kind][0]
    task.args = json.dumps([target_id])
    task.kwargs = json.dumps({"trigger": "schedule"}) if kind == "run_incoming" else "{}"
    task.crontab = schedule
    task.interval = None
    task.enabled = enabled
    task.description = f"{KINDS[kind][1]} {target_id}"
    task.save()
    return task


def is_system(task: PeriodicTask) -> bool:
    return task.name.startswith(SYSTEM_PREFIX)


DEFAULT_JOBS = [
    # name, task, every (seconds) or cron fields
    ("heartbeat", "connections.heartbeat", 30, "Workers report that they are alive (dashboard)."),
    ("repair", "connections.repair", 60, "Return stuck tasks to New, resume runs whose worker died."),
    ("process due tasks", "connections.process_due_tasks", 60, "Publish tasks whose retry time has come."),
    ("fold counts", "summaries.fold", 10, "Add recent task and request changes into the counts the pages show."),
    ("reconcile counts", "summaries.reconcile", {"minute": "15", "hour": "*"},
     "Check the task counts against a fresh count of the tasks and correct any difference."),
    ("retention", "connections.prune", {"minute": "30", "hour": "3"},
     "Delete finished tasks, runs and request logs past their retention days."),
    ("webhook requests", "webhooks.process_pending", 60,
     "Process webhook requests whose worker message was lost or whose worker died."),
    ("webhook retention", "webhooks.prune", {"minute": "40", "hour": "3"},
     "Delete processed webhook requests past their retention days."),
]


def install_default_jobs() -> list[str]:
    """Create (or bring back to their defaults) the system periodic jobs; keeps their enabled flag."""
    names = []
    for short, task_name, when, description in DEFAULT_JOBS:
        name = SYSTEM_PREFIX + short
        if isinstance(when, int):
            interval, _ = IntervalSchedule.objects.get_or_create(every=when, period=IntervalSchedule.SECONDS)
            schedule = {"interval": interval, "crontab": None}
        else:
            cron, _ = CrontabSchedule.objects.get_or_create(
                timezone=settings.TIME_ZONE, day_of_month="*", month_of_year="*", day_of_week="*", **when)
            schedule = {"crontab": cron, "interval": None}
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task_name, "description": description, **schedule})
        names.append(name)
    return names
