"""Run a command that dies with its supervisor: `python orphan_guard.py SUPERVISOR_PID CMD...`.

`manage.py start` starts every child through this file. On Linux it asks the kernel to send the
child SIGTERM when the supervisor dies (prctl PR_SET_PDEATHSIG, which survives the exec below),
so a supervisor killed with SIGKILL leaves no dashboard, worker or scheduler behind: the worker
then shuts down warmly and hands its work back. Elsewhere the command just runs.

A plain script (no Django, no package import), so it adds nothing to a child's start-up.
"""
import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    supervisor, command = int(sys.argv[1]), sys.argv[2:]
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != supervisor:
        sys.exit("the supervisor stopped before this process started; not starting")  # died before prctl
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
