"""The endpoint's broker messages: coalesced per process, and always one after the last stored request."""
import threading

from tests.support.worker import wait_for
from webhooks import tasks


def test_a_burst_of_requests_sends_few_messages_and_one_after_the_last(monkeypatch):
    sent: list[int] = []
    announced = [0]
    lock = threading.Lock()

    def record(*args, **kwargs):
        with lock:
            sent.append(announced[0])  # how many requests had been announced when this message left

    monkeypatch.setattr(tasks.process_pending, "apply_async", record)
    announcer = tasks.Announcer()

    for _ in range(200):
        with lock:
            announced[0] += 1
        announcer.announce()

    wait_for(lambda: sent and sent[-1] == 200, timeout=60, message="a message after the last request")
    assert len(sent) < 200  # coalesced: a message per window, not per request


def test_a_broker_failure_is_logged_not_raised(monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.process_pending, "apply_async", down)
    announcer = tasks.Announcer()
    announcer.announce()
    wait_for(lambda: "periodic sweep will process them" in caplog.text, timeout=60, message="the warning")
    announcer.announce()  # and it keeps working
