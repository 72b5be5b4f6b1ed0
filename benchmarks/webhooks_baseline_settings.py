"""Settings for bench_webhooks.py's gunicorn: the project's, plus the baseline view's URL."""
from alumio_lite.settings import *  # noqa: F403 - the very same project, one URL more

ROOT_URLCONF = "webhooks_baseline_urls"
# The endpoint's messages to the workers go to a queue of their own, removed after the run, so
# the benchmark never mixes with (or clears) a test's or a real installation's queue.
CELERY_TASK_DEFAULT_QUEUE = "bench-webhooks"
