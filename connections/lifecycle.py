"""A worker's start and shutdown, as they concern our work.

- **Shutdown in seconds, not minutes.** Celery's warm shutdown (Ctrl-C, SIGTERM) waits for the
  tasks in hand, and a publisher slice or a run may take minutes. When the main process begins
  shutting down it sets a flag its pool processes share (`stopping()`); publishers then finish
  the task in hand and give the rest of their claimed batch back to New, and a run goes back to
  Queued between two pages. Nothing is left in Processing, and the work continues on the next
  worker.
- **Recovery at start.** A starting worker hands back whatever a dead process of this host held
  (`claims.recover`), so a restart after a crash continues at once instead of after
  STUCK_TASK_TIMEOUT_MINUTES.

Connected when the Celery app loads (alumio_lite/celery.py), before any pool process forks.
"""
from __future__ import annotations

import logging
import multiprocessing

from celery.signals import worker_init, worker_ready, worker_shutting_down

log = logging.getLogger(__name__)

_stopping = None  # an Event shared with the pool processes forked after worker_init


@worker_init.connect
def _share_a_stop_flag(**kwargs) -> None:
    global _stopping
    _stopping = multiprocessing.get_context("fork").Event()


@worker_shutting_down.connect
def _raise_the_stop_flag(**kwargs) -> None:
    if _stopping is not None:
        _stopping.set()


def stopping() -> bool:
    """True once this worker has begun a warm shutdown."""
    return _stopping is not None and _stopping.is_set()


@worker_ready.connect
def _recover_dead_claims(**kwargs) -> None:
    from django.db import close_old_connections

    from .claims import recover
    from .tasks import resume

    try:
        result = recover()
        resume(result["runs_resumed"])
    except Exception:  # noqa: BLE001 - recovery must never keep a worker from starting; repair retries
        log.exception("could not recover the work of stopped processes at start-up; the repair job will")
        return
    finally:
        close_old_connections()
    if result["tasks_released"] or result["runs_resumed"]:
        log.warning("Recovered the work of stopped processes: %s tasks back to New, runs started again: %s",
                    result["tasks_released"], result["runs_resumed"] or "none")
