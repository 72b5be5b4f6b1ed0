"""An unknown ${NAME} in a transformer step's settings is refused when saving (naming the variable, the step and
the field, and where to add it) and the tester says the same; once the variable exists the chain saves and runs."""
from __future__ import annotations

import html

import pytest
from django.urls import reverse

from connections.models import Transformer
from tests.accounts.conftest import editor  # noqa: F401  (an Editor saves transformers)
from variables.models import Variable

pytestmark = pytest.mark.django_db


def chain(value: str) -> dict:
    return {"name": "Greeting", "identifier": "", "description": "", "steps-TOTAL": "1",
            "steps-0-kind": "value_setter", "steps-0-key": "greeting", "steps-0-value": value,
            "steps-0-on_missing": "", "steps-0-default": "", "input": '{"name": "Acme"}'}


def test_unknown_names_are_refused_at_save_and_in_the_tester(client, editor):  # noqa: F811
    client.force_login(editor)
    response = client.post(reverse("connections:transformer_new"), chain("Hello from ${SENDER_NAME}"))
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "Nothing saved" in body
    assert ("Unknown environment variable ${SENDER_NAME}: an Admin adds it under Settings -> "
            "Environment variables") in body
    assert not Transformer.objects.exists()
    tester = client.post(reverse("connections:transformer_run"), chain("${SENDER_NAME}")).content.decode()
    tester = html.unescape(tester)
    assert 'Step 1 (Value setter): "Value": Unknown environment variable ${SENDER_NAME}' in tester


def test_a_defined_name_saves_and_the_tester_shows_its_value(client, editor):  # noqa: F811
    Variable.objects.create(name="SENDER_NAME", stored={"value": "Ada"})
    client.force_login(editor)
    response = client.post(reverse("connections:transformer_new"), chain("Hello from ${SENDER_NAME}"))
    assert response.status_code == 302
    saved = Transformer.objects.get()
    assert saved.steps[0]["settings"]["value"] == "Hello from ${SENDER_NAME}"  # stored as written
    tester = client.post(reverse("connections:transformer_run"), chain("Hello from ${SENDER_NAME}")).content.decode()
    assert "Hello from Ada" in tester
    # A saved chain whose variable was removed since shows the problem on its step when opened.
    Variable.objects.all().delete()
    page = html.unescape(client.get(reverse("connections:transformer_edit", args=[saved.pk])).content.decode())
    assert "Unknown environment variable ${SENDER_NAME}" in page
