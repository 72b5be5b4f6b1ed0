"""ClientSession spends from the shared budget: waits for its slot, or says RateLimited; tells it of 429s.

Real fake platforms on sockets; sleeps are recorded, not slept, so nothing here depends on speed.
"""
import pytest

from clients import rate_budget
from clients.http import RateLimited
from tests.fakes.limited import LimitedPicqer, LimitedPipedrive
from tests.fakes.platforms import FakePicqer
from tests.http.helpers import session

pytestmark = [pytest.mark.django_db, pytest.mark.rate_budget]


def limited_client(fake, per_minute=None):
    client = fake.make_client()
    client.rate_limit_per_minute = per_minute
    client.save()
    return client


def test_a_second_process_waits_for_the_next_slot_and_a_third_that_may_not_wait_so_long_is_refused(budget_store):
    with FakePicqer() as fake:
        client = limited_client(fake, per_minute=6)  # a slot every 10 s (10.2 with the headroom)
        first, first_sleeps = session(client)
        second, second_sleeps = session(client)
        third, _ = session(client, max_rate_limit_wait=1.0)
        first.call("GET /users/me")
        second.call("GET /users/me")
        with pytest.raises(RateLimited) as refused:
            third.call("GET /users/me")
        assert first_sleeps == []
        assert len(second_sleeps) == 1 and 0 < second_sleeps[0] <= 60 / 6 / 0.98 + 0.01
        assert fake.request_count == 2  # the refused call never reached the platform
        assert "shared rate budget" in str(refused.value) and "HTTP_MAX_RATE_LIMIT_WAIT" in str(refused.value)
        assert refused.value.retry_after > 1.0


def test_a_429_pauses_every_session_of_the_client(budget_store):
    with FakePicqer() as fake:
        client = limited_client(fake)
        fake.fail_next(429, retry_after=30)
        publisher, _ = session(client, wait_on_rate_limit=False)
        with pytest.raises(RateLimited):
            publisher.call("GET /users/me")
        other, _ = session(client, max_rate_limit_wait=5)
        with pytest.raises(RateLimited) as refused:
            other.call("GET /users/me")
        assert fake.request_count == 1  # the second session did not provoke a second 429
        assert "HTTP 429" in str(refused.value)
        patient, sleeps = session(client, max_rate_limit_wait=60)
        assert patient.call("GET /users/me").status == 200
        assert len(sleeps) == 1 and 20 < sleeps[0] <= 30


def test_the_platforms_live_limit_header_refines_the_documented_one(budget_store):
    with LimitedPicqer(limit=900, window=60, headers=True) as fake:
        client = limited_client(fake)
        summary = rate_budget.describe([client])[client.pk]
        assert summary.per_minute == 500 and "documented" in summary.source
        s, _ = session(client)
        s.call("GET /users/me")
        summary = rate_budget.describe([client])[client.pk]
        assert summary.per_minute == 900 and "X-RateLimit-Limit: 900" in summary.source
        assert summary.used + summary.used_before == 1
        client.rate_limit_per_minute = 100  # the client's own, lower setting wins
        summary = rate_budget.describe([client])[client.pk]
        assert summary.per_minute == 100 and summary.source == "set on this HTTP Client"


def test_nothing_left_in_the_window_pauses_everyone_before_a_429(budget_store):
    with LimitedPicqer(limit=2, window=600, headers="remaining") as fake:
        client = limited_client(fake, per_minute=6000)
        s, _ = session(client, max_rate_limit_wait=5)
        s.call("GET /users/me")
        s.call("GET /users/me")  # X-RateLimit-Remaining: 0
        with pytest.raises(RateLimited) as refused:
            s.call("GET /users/me")
        assert fake.limiter.refused == 0 and fake.request_count == 2
        assert "X-RateLimit-Remaining: 0" in str(refused.value)
        summary = rate_budget.describe([client])[client.pk]
        assert summary.paused_until is not None and "Remaining: 0" in summary.pause_reason


def test_pipedrive_remaining_zero_pauses_until_its_reset_header(budget_store):
    with LimitedPipedrive(limit=1000, window=60) as fake:
        client = limited_client(fake)
        s, _ = session(client, max_rate_limit_wait=60)
        budget = s.budget
        assert budget.pause_for(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"}) == (
            2.0, "paused: Pipedrive said x-ratelimit-remaining: 0 (for 2 s)")
        assert budget.pause_for(200, {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2"})[0] == 0
        seconds, reason = budget.pause_for(429, {"x-daily-ratelimit-token-remaining": "0"})
        assert seconds > 60 and "daily API budget" in reason


def test_zero_requests_per_minute_or_the_setting_off_means_no_budget(budget_store, settings):
    with FakePicqer() as fake:
        client = limited_client(fake, per_minute=0)
        s, sleeps = session(client)
        assert not s.budget.enabled
        for _ in range(5):
            s.call("GET /users/me")
        assert sleeps == []
        assert rate_budget.describe([client])[client.pk].enabled is False
        client.rate_limit_per_minute = None
        settings.HTTP_RATE_BUDGET = False
        assert not session(client)[0].budget.enabled
