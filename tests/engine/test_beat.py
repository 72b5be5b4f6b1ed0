"""A real `celery beat` process records each job's last run in the database promptly, so the
Schedulers page does not say "never" for a job that has run (beat's default saves every 3 min)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.support.worker import BASE_DIR, wait_for, worker_database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_beat_saves_last_run_right_after_sending_a_job(tmp_path, broker):
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    job = PeriodicTask.objects.create(name="probe", task="connections.heartbeat", interval=every_second)
    env = {**os.environ, **broker.env, "DATABASE_URL": worker_database_url(), "SECRET_KEY": settings.SECRET_KEY}
    log = open(tmp_path / "beat.log", "wb")
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "alumio_lite", "beat", "--loglevel=INFO",
         f"--pidfile={tmp_path / 'beat.pid'}"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Beat's default saves the first run at once, then only every 180 s; the budget is far
        # below that and far above a slow machine's start-up, so only a save per run passes.
        wait_for(lambda: PeriodicTask.objects.get(pk=job.pk).total_run_count >= 3, timeout=90,
                 interval=0.5, message="beat to save the job's third run")
        assert PeriodicTask.objects.get(pk=job.pk).last_run_at is not None
    finally:
        beat.terminate()
        beat.wait(30)
        log.close()
