import pytest
from django.db.models import Count

from connections.models import Task
from summaries import counts as summaries
from summaries import maintenance
from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive


@pytest.fixture
def route(db):
    from tests.lists.conftest import make_route

    return make_route()


@pytest.fixture
def source():
    with FakePicqer(records=120) as fake:
        yield fake


@pytest.fixture
def destination():
    with FakePipedrive() as fake:
        yield fake


@pytest.fixture
def pipeline(db, source, destination):
    return build_pipeline(source, destination, backoff=600)  # a retry never comes due within a test


def fresh_counts() -> dict[tuple[int, str], int]:
    """COUNT(*) per (route, status), straight from the task table."""
    rows = Task.objects.order_by().values("route_id", "status").annotate(n=Count("id"))
    return {(row["route_id"], row["status"]): row["n"] for row in rows}


def kept_counts(fold: bool = False) -> dict[tuple[int, str], int]:
    """What the pages read (summaries), optionally after folding the pending deltas."""
    if fold:
        maintenance.fold()
    return {(route, status): n for route, by_status in summaries.task_counts().items()
            for status, n in by_status.items()}
