"""Deleting a route with all its tasks, however many: in batches, in the background when big.

Django's delete() of a route first loads every task to cascade to it (and to null the request
logs that point at them): a route with 1,000,000 tasks took half a minute inside the web
request and ended in a 500 ("too many SQL variables"). Here the tasks go in batches of
RETENTION_BATCH (connections.retention), each its own short transaction, and a route with more
than one batch of tasks is deleted by a worker: the route is disabled and marked at once, the
routes list says "Deleting…" while its task count goes down, and the row goes last. A worker
killed half way gets the message again (acks_late) and carries on from what is left.
"""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from .models import Route, Task
from .retention import delete_in_batches


def delete_now_or_later(route: Route) -> bool:
    """Delete `route` at once when it has at most one batch of tasks; else start a background deletion.

    Returns True when the route is gone now, False when a worker finishes it.
    """
    if not Task.objects.filter(route=route)[: settings.RETENTION_BATCH + 1].count() > settings.RETENTION_BATCH:
        delete_route(route.pk)
        return True
    Route.objects.filter(pk=route.pk).update(enabled=False, deletion_started_at=timezone.now())
    from .tasks import delete_route as job

    job.delay_on_commit(route.pk)
    return False


def delete_route(route_id: int) -> int:
    """Delete the route's tasks batch by batch, then the route; returns the tasks deleted (0 if it is gone)."""
    if not Route.objects.filter(pk=route_id).exists():
        return 0
    Route.objects.filter(pk=route_id).update(enabled=False)  # nothing new is claimed or created meanwhile
    deleted = delete_in_batches(Task.objects.filter(route_id=route_id))
    Route.objects.filter(pk=route_id).delete()
    return deleted
