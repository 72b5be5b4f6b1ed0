"""The Celery app. Tasks live in each app's tasks.py and are found by autodiscovery."""
import os

from celery import Celery

from . import broker

broker.register()  # filesystem:// is our crash-safe transport, in every process
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")

app = Celery("alumio_lite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.imports = ("connections.lifecycle",)  # worker start/stop hooks, loaded before the pool forks
