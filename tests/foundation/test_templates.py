"""Template hygiene: Django's {# #} comments end on their own line, or they show on the page;
every page names its icon, or browsers ask for a /favicon.ico that does not exist."""
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))


def test_templates_are_found():
    assert len(TEMPLATES) > 40


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_comment_spans_lines(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if "{#" in line:
            assert "#}" in line.split("{#", 1)[1], f"{path.name}:{number}: a {{# comment must close on its line"


@pytest.mark.parametrize("url_name", ["home", "connections:transformer_new", "connections:incoming_create"])
def test_pages_show_no_template_comment(signed_in, url_name):
    html = signed_in.get(reverse(url_name)).content.decode()
    assert "{#" not in html and "#}" not in html


@pytest.mark.parametrize("path", [p for p in TEMPLATES if "<head>" in p.read_text()],
                         ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_every_page_head_names_the_icon(path):
    assert 'rel="icon"' in path.read_text()
