"""pytest fixtures starting the local fake platform servers (see tests/fakes/__init__.py)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .platforms import FAKES, FakeConnectWise, FakeCopper, FakePicqer, FakePipedrive, FakeTimely
from .server import FakePlatform


@pytest.fixture
def fake_platform() -> Iterator[Callable[..., FakePlatform]]:
    """Factory: `fake_platform("picqer", records=1000)` starts a fake, stopped after the test."""
    started: list[FakePlatform] = []

    def start(name: str, **options) -> FakePlatform:
        fake = FAKES[name](**options).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_picqer() -> Iterator[FakePicqer]:
    with FakePicqer(records=250) as fake:
        yield fake


@pytest.fixture
def fake_pipedrive() -> Iterator[FakePipedrive]:
    with FakePipedrive(records=250) as fake:
        yield fake


@pytest.fixture
def fake_connectwise() -> Iterator[FakeConnectWise]:
    with FakeConnectWise(records=250) as fake:
        yield fake


@pytest.fixture
def fake_timely() -> Iterator[FakeTimely]:
    with FakeTimely(records=250) as fake:
        yield fake


@pytest.fixture
def fake_copper() -> Iterator[FakeCopper]:
    with FakeCopper(records=250) as fake:
        yield fake
