"""Counts kept up to date as rows change, so busy pages never count a big table.

- TaskCount: tasks per (route, status): the dashboard's totals, the Routes list, a route's page.
- RequestLogHour: request logs per hour, and how many of them failed: the dashboard's chart.

Database triggers on the task and request log tables keep them right (summaries.triggers): every
insert, status change and delete, from any code path, moves the count in the same transaction.
On SQLite a trigger updates the count row directly (there is one writer at a time anyway). On
PostgreSQL concurrent workers would queue on the same hot count row, so its triggers append
*deltas* instead (no row is shared), and `summaries.maintenance.fold()` adds them into the
counts every minute; readers add the counts and the pending deltas. A periodic reconciliation
compares with a fresh COUNT and corrects any drift.

The route is a plain integer, not a foreign key: deleting a route deletes its tasks, whose
triggers then write for that route; the rows left for a route that is gone are removed by the
reconciliation and never shown (readers start from the routes).
"""
from django.db import models


class TaskCount(models.Model):
    route_id = models.BigIntegerField()
    status = models.CharField(max_length=12)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["route_id", "status"], name="taskcount_route_status")]

    def __str__(self) -> str:
        return f"route {self.route_id} {self.status}: {self.count}"


class TaskCountDelta(models.Model):
    """PostgreSQL only: a change not yet folded into TaskCount."""

    route_id = models.BigIntegerField()
    status = models.CharField(max_length=12)
    delta = models.BigIntegerField()


class RequestLogHour(models.Model):
    hour = models.DateTimeField(unique=True)  # UTC, on the hour
    total = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)  # status >= 400 or no response

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.total} ({self.errors} failed)"


class RequestLogHourDelta(models.Model):
    """PostgreSQL only: request logs not yet folded into RequestLogHour."""

    hour = models.DateTimeField()
    total = models.BigIntegerField()
    errors = models.BigIntegerField()
