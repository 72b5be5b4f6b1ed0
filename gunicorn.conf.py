# Read by gunicorn from the directory it starts in (the project root, /app in the image).
import os

# Access-log lines go through alumio_lite.access_log: OAuth codes, states and credentials redacted.
logger_class = "alumio_lite.access_log.GunicornLogger"

# Threads per process: webhook requests arriving together share one durable commit per process
# (webhooks/committer.py), which a sync worker, one request at a time, can never group.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))

# How long a thread may hold the GIL before a waiting one gets it (CPython's default: 5 ms).
# With threads, the group commit's writer and the requests it has committed each wait for the
# GIL after their I/O, up to that long each, while other threads parse requests: 1 ms cut the
# webhook endpoint's latency under load (benchmarks/README.md, bench_webhooks.py).
# WEB_SWITCH_INTERVAL_MS=5 restores CPython's default.
switch_interval = float(os.environ.get("WEB_SWITCH_INTERVAL_MS", "1")) / 1000


def post_fork(server, worker):
    import sys

    sys.setswitchinterval(switch_interval)
