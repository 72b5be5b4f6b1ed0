"""Work of a process that died comes back at once; a worker shutting down hands its work back."""
import socket
import subprocess
import sys
from pathlib import Path

from connections import claims, engine
from connections.models import Run, Task
from tests.support.worker import wait_for


def dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def subscribe(pipeline) -> Run:
    return engine.execute_run(engine.start_run(pipeline.incoming).pk)


def test_tasks_claimed_by_a_dead_local_process_return_to_new_at_once(pipeline):
    subscribe(pipeline)
    claimed = engine.claim_tasks(pipeline.route.pk, limit=10)
    dead = f"{socket.gethostname()}:{dead_pid()}"
    Task.objects.filter(pk__in=claimed[:3]).update(claimed_by=dead)  # just claimed: no timeout has passed
    Task.objects.filter(pk__in=claimed[3:5]).update(claimed_by="another-host:1")  # can't tell: left alone

    result = engine.repair()

    assert result["tasks_released"] == 3
    assert set(Task.objects.filter(status=Task.Status.NEW, pk__in=claimed).values_list("pk", flat=True)) == set(
        claimed[:3])
    assert Task.objects.filter(pk__in=claimed[3:], status=Task.Status.PROCESSING).count() == 7  # ours are alive


def test_a_run_whose_local_worker_died_is_resumed_and_creates_no_duplicate_task(pipeline):
    run = subscribe(pipeline)
    tasks_before, pages = Task.objects.filter(run=run).count(), run.pages
    # Killed at page 2: still Running, claimed by a process that no longer exists.
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, pages=1,
                                         claimed_by=f"{socket.gethostname()}:{dead_pid()}")

    result = claims.recover()

    assert result["runs_resumed"] == [run.pk]
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED and run.resumes == 1
    run = engine.execute_run(run.pk)
    assert run.status == Run.Status.FINISHED and run.pages == pages and run.entities == 300
    assert Task.objects.filter(route=pipeline.route).count() == tasks_before == 300
    assert run.resumes == 1


def test_a_live_claim_is_never_taken_back(pipeline):
    run = subscribe(pipeline)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, claimed_by=claims.me())
    claimed = engine.claim_tasks(pipeline.route.pk, limit=5)  # claimed_by = this (living) process

    assert claims.recover() == {"tasks_released": 0, "runs_resumed": [], "runs_failed": 0}
    assert Task.objects.filter(pk__in=claimed, status=Task.Status.PROCESSING).count() == 5


def test_a_publisher_asked_to_stop_finishes_the_task_in_hand_and_hands_back_the_rest(pipeline):
    subscribe(pipeline)
    published = []

    def stop() -> bool:
        published.append(1)
        return len(published) > 7  # the shutdown begins while the 8th task is due

    summary = engine.process_tasks(pipeline.route.pk, batch_size=50, stop=stop)

    assert summary.finished == 7 and summary.handed_back == 43
    assert len(pipeline.destination.published) == 7
    assert not Task.objects.filter(status=Task.Status.PROCESSING).exists()
    assert Task.objects.filter(route=pipeline.route, status=Task.Status.NEW).count() == 293


def test_a_run_asked_to_stop_goes_back_to_the_queue_and_resumes_without_duplicates(pipeline):
    run = engine.start_run(pipeline.incoming)
    pages = []

    run = engine.execute_run(run.pk, progress=lambda r: pages.append(r.pages), stop=lambda: len(pages) >= 2)

    assert run.status == Run.Status.QUEUED and "shut down" in run.error
    assert Task.objects.filter(run=run).count() == 200  # two pages stored
    run = engine.execute_run(run.pk)
    assert run.status == Run.Status.FINISHED and run.error == ""
    assert Task.objects.filter(route=pipeline.route).count() == 300


def test_an_old_worker_stops_paging_when_the_run_was_taken_over(pipeline):
    run = engine.start_run(pipeline.incoming)

    def taken_over(current):
        Run.objects.filter(pk=current.pk).update(claimed_by="another-host:4242")

    run = engine.execute_run(run.pk, progress=taken_over)

    assert run.pages == 1  # stopped after the first page, leaving the run to the other worker
    assert run.status == Run.Status.RUNNING and run.claimed_by == "another-host:4242"


def test_a_dead_but_unreaped_process_counts_as_dead():
    # A killed pool process whose parent died too can stay a zombie where nothing reaps orphans.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z",
                 timeout=60, message="the child to exit unreaped")
        assert claims.is_dead(f"{socket.gethostname()}:{child.pid}")
        assert not claims.is_dead(claims.me())
    finally:
        child.wait()


def test_the_run_page_says_a_run_was_started_again(signed_in, pipeline):
    run = subscribe(pipeline)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, claimed_by=f"{socket.gethostname()}:{dead_pid()}")
    claims.recover()

    queued = signed_in.get(run.get_absolute_url()).content.decode()
    assert "it was started again automatically (resume 1 of 3)" in queued
    engine.execute_run(run.pk)
    finished = signed_in.get(run.get_absolute_url()).content.decode()
    assert "started again 1 time after its worker stopped" in finished
