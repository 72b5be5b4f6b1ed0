"""Identifiers derived from names: slug, unique, reserved words refused."""
import pytest

from clients.identifiers import identifier_error, unique_identifier
from clients.models import HttpClient

pytestmark = pytest.mark.django_db


def test_derived_from_the_name_and_made_unique():
    assert unique_identifier("Picqer Productie!", HttpClient) == "picqer-productie"
    HttpClient.objects.create(name="x", identifier="picqer-productie", platform="picqer")
    HttpClient.objects.create(name="x", identifier="picqer-productie-2", platform="picqer")
    assert unique_identifier("Picqer Productie", HttpClient) == "picqer-productie-3"


def test_names_without_letters_and_reserved_words():
    assert unique_identifier("🙂🙂", HttpClient) == "client"
    assert unique_identifier("New", HttpClient) == "new-2"
    assert identifier_error("logs", HttpClient) is not None


def test_editing_keeps_its_own_identifier():
    client = HttpClient.objects.create(name="x", identifier="mine", platform="picqer")
    assert identifier_error("mine", HttpClient, exclude_pk=client.pk) is None
    assert "already used" in identifier_error("mine", HttpClient)
