"""Is a process of this host still running? Used to take work back from processes that died."""
from __future__ import annotations

import os


def is_running(pid: int) -> bool:
    """False for a pid that no longer exists, or that is a zombie (dead, not yet reaped).

    A killed worker whose parent died too can stay a zombie for good where nothing reaps
    orphans (some container inits), and a zombie still answers os.kill(pid, 0).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): a zombie is taken for alive; the timeouts still apply
