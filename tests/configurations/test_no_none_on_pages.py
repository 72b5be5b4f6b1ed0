"""No page prints Python's `None` where a value is missing (the route form once showed
"None" beside "Add transformer" because an absent error list was rendered as is)."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive

# "None" as a whole text node, e.g. `>None<` or on a line by itself inside an element.
BARE_NONE = re.compile(r">\s*None\s*<")


@pytest.fixture
def pipeline(db):
    with FakePicqer(records=1) as source, FakePipedrive() as destination:
        yield build_pipeline(source, destination)


def test_no_form_or_page_renders_a_bare_none(signed_in, pipeline):
    urls = [
        reverse("home"),
        reverse("connections:route_list"),
        reverse("connections:route_create"),
        reverse("connections:route_edit", args=[pipeline.route.pk]),
        pipeline.route.get_absolute_url(),
        reverse("connections:incoming_create"),
        reverse("connections:outgoing_create"),
        pipeline.incoming.get_absolute_url(),
        pipeline.outgoing.get_absolute_url(),
        reverse("connections:transformer_list"),
        reverse("connections:transformer_new"),
    ]
    for url in urls:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not BARE_NONE.search(html), f"{url} shows a bare None: {BARE_NONE.search(html).group(0)!r}"


def test_route_form_with_an_error_still_shows_no_none(signed_in, pipeline):
    response = signed_in.post(reverse("connections:route_create"), {"name": ""})
    html = response.content.decode()
    assert response.status_code == 200 and "has-error" in html
    assert not BARE_NONE.search(html)
