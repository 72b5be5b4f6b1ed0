"""Local fake platform servers for tests and benchmarks (real HTTP on 127.0.0.1, random port).

    from tests.fakes import FakePicqer

    with FakePicqer(records=250) as fake:
        client = fake.make_client("picqer-test")     # a saved HttpClient pointing at the fake
        fake.fail_next(429, retry_after=1)          # plan failures: 429, 500, garbage_next()
        ...
        fake.received                               # every request: method, path, query, headers, body
        fake.published                              # writes (POST/PUT/PATCH/DELETE) the fake accepted

Fixtures (tests/fakes/fixtures.py, registered in tests/conftest.py): fake_picqer, fake_pipedrive,
fake_connectwise, fake_timely, fake_copper (250 records each), and `fake_platform(name, **options)`
to start any fake with other options.
"""
from .platforms import FAKES, FakeConnectWise, FakeCopper, FakePicqer, FakePipedrive, FakeTimely
from .server import FakePlatform, Received, Reply

__all__ = [
    "FAKES",
    "FakeConnectWise",
    "FakeCopper",
    "FakePicqer",
    "FakePipedrive",
    "FakePlatform",
    "FakeTimely",
    "Received",
    "Reply",
]
