"""`manage.py worker_alive` (the compose health check) agrees with the dashboard on who is alive."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from connections.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_no_heartbeat_is_unhealthy():
    with pytest.raises(CommandError, match="no worker heartbeat in the last 120 s"):
        call_command("worker_alive")


def test_a_heartbeat_older_than_the_dashboard_window_is_unhealthy_by_default(capsys):
    WorkerHeartbeat.objects.create(hostname="celery@old", seen_at=timezone.now() - timedelta(minutes=3))
    with pytest.raises(CommandError):
        call_command("worker_alive")
    call_command("worker_alive", "--max-age", "240")  # the compose check allows more
    assert "celery@old seen 18" in capsys.readouterr().out


def test_a_fresh_heartbeat_is_healthy(capsys):
    WorkerHeartbeat.objects.create(hostname="celery@box")
    call_command("worker_alive")
    assert capsys.readouterr().out.startswith("celery@box seen 0 s ago")
