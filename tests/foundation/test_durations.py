"""The duration filter: runs take milliseconds to hours, and each reads at a useful precision."""
from datetime import timedelta

import pytest

from alumio_lite.templatetags.durations import duration


@pytest.mark.parametrize(("value", "text"), [
    (None, ""),
    (timedelta(milliseconds=850), "850 ms"),
    (timedelta(seconds=3.25), "3.2 s"),
    (timedelta(seconds=59.9), "59.9 s"),
    (timedelta(seconds=60), "1 min"),
    (timedelta(minutes=2, seconds=5), "2 min 5 s"),
    (timedelta(hours=1), "1 h"),
    (timedelta(hours=1, minutes=3, seconds=10), "1 h 3 min"),
    (timedelta(seconds=-2), "0 ms"),  # clocks of web and worker disagree a little
])
def test_duration(value, text):
    assert duration(value) == text
