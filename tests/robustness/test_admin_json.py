"""The admin's JSON boxes follow the same policy as the dashboard's forms: an error, not a 500."""
import pytest
from django.urls import reverse

from connections.models import Transformer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("steps", ['[{"kind": "value_setter", "settings": {"value": NaN}}]', "[" * 5000 + "]" * 5000,
                                   '["\\ud800"]', "[" + "9" * 5000 + "]"])
def test_a_transformer_saved_in_the_admin_with_json_the_policy_refuses(signed_in, steps):
    transformer = Transformer.objects.create(name="T", identifier="t", steps=[])
    response = signed_in.post(reverse("admin:connections_transformer_change", args=[transformer.pk]),
                              {"name": "T", "identifier": "t", "description": "", "steps": steps})
    assert response.status_code == 200 and "This JSON can" in response.content.decode()
    transformer.refresh_from_db()
    assert transformer.steps == []
