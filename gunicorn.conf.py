# Read by gunicorn from the directory it starts in (the project root, /app in the image).
import os

# Access-log lines go through alumio_lite.access_log: OAuth codes, states and credentials redacted.
logger_class = "alumio_lite.access_log.GunicornLogger"

# Threads per process: webhook requests arriving together share one durable commit per process
# (webhooks/committer.py), which a sync worker, one request at a time, can never group.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
