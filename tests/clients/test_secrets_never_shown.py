"""No secret value appears in any rendered page, request log, export or exception text."""
from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import HttpClient, RequestLog

pytestmark = pytest.mark.django_db

SECRETS = {
    "picqer": {"api_key": "PQ-leak-canary-0001"},
    # ConnectWise's Client ID is no secret (it names the integration); the Private Key is.
    "connectwise": {"private_key": "CW-leak-canary-0003"},
    "timely": {"client_secret": "TM-leak-canary-0004"},
}
TOKENS = {"access_token": "AT-leak-canary-0005", "refresh_token": "RT-leak-canary-0006"}
CANARIES = [*(v for s in SECRETS.values() for v in s.values()), *TOKENS.values()]


def _assert_clean(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary} leaked into {where}"


@pytest.fixture
def clients_with_secrets(db):
    made = {}
    made["picqer"] = HttpClient.objects.create(
        name="Picqer prod", identifier="picqer-prod", platform="picqer",
        settings={"base_uri": "https://acme.picqer.com/api/v1"}, secrets=SECRETS["picqer"],
        last_error="401 for key PQ-leak-canary-0001")  # even a careless stored error is redacted on display
    made["connectwise"] = HttpClient.objects.create(
        name="CW", identifier="cw", platform="connectwise",
        settings={"base_uri": "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0", "company_id": "acme",
                  "public_key": "pub", "client_id": "cw-integration-id"}, secrets=SECRETS["connectwise"])
    made["timely"] = HttpClient.objects.create(
        name="Timely", identifier="timely", platform="timely", settings={"base_uri": "https://api.timelyapp.com",
                                                                          "client_id": "app"},
        secrets=SECRETS["timely"], tokens=TOKENS, auth_state="granted")
    RequestLog.objects.create(client=made["picqer"], method="GET", url="https://acme.picqer.com/api/v1/users/me",
                              status=200, request_headers={"Authorization": "[redacted]"}, response_body="{}")
    return made


def test_dashboard_pages(signed_in, clients_with_secrets):
    urls = [reverse("clients:list"), reverse("clients:request_logs"),
            reverse("clients:request_log", args=[RequestLog.objects.get().pk])]
    for client in clients_with_secrets.values():
        urls += [reverse("clients:detail", args=[client.identifier]), reverse("clients:edit", args=[client.identifier]),
                 reverse("clients:delete", args=[client.identifier])]
    for url in urls:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        _assert_clean(response.content.decode(), url)
    detail = signed_in.get(reverse("clients:detail", args=["cw"])).content.decode()
    assert "Private Key" in detail and ">set<" in detail


def test_edit_page_with_errors_does_not_echo_secrets(signed_in, clients_with_secrets):
    response = signed_in.post(reverse("clients:edit", args=["cw"]), {
        "name": "CW", "identifier": "cw", "base_uri": "bad uri", "client_id": "", "company_id": "acme",
        "public_key": "pub", "private_key": "CW-leak-canary-0003"})
    assert response.status_code == 200 and response.context["form"].errors
    _assert_clean(response.content.decode(), "edit with errors")


def test_wizard_steps(signed_in):
    signed_in.get(reverse("clients:create") + "?restart=1")
    signed_in.post(reverse("clients:create"), {"platform": "connectwise"})
    data = {"base_uri": "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0", "company_id": "acme",
            "public_key": "pub", "client_id": "cw-integration-id", **SECRETS["connectwise"]}
    pages = [signed_in.post(reverse("clients:create_settings"), {**data, "company_id": ""})]  # error re-render
    pages.append(signed_in.get(reverse("clients:create_settings")))
    signed_in.post(reverse("clients:create_settings"), data)
    pages.append(signed_in.get(reverse("clients:create_name")))
    pages.append(signed_in.post(reverse("clients:create_name"), {"name": "", "identifier": ""}))
    for page in pages:
        _assert_clean(page.content.decode(), "wizard")


def test_admin_pages(signed_in, clients_with_secrets):
    urls = [reverse("admin:clients_httpclient_changelist"), reverse("admin:clients_requestlog_changelist")]
    for client in clients_with_secrets.values():
        urls.append(reverse("admin:clients_httpclient_change", args=[client.pk]))
    urls.append(reverse("admin:clients_requestlog_change", args=[RequestLog.objects.get().pk]))
    for url in urls:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        _assert_clean(response.content.decode(), url)
    change = signed_in.get(reverse("admin:clients_httpclient_change", args=[clients_with_secrets["timely"].pk]))
    assert 'name="secrets"' not in change.content.decode() and 'name="tokens"' not in change.content.decode()


def test_admin_save_keeps_secrets(signed_in, clients_with_secrets):
    client = clients_with_secrets["picqer"]
    response = signed_in.post(reverse("admin:clients_httpclient_change", args=[client.pk]), {
        "name": "Renamed", "identifier": client.identifier, "platform": "picqer",
        "settings": '{"base_uri": "https://acme.picqer.com/api/v1"}',
    })
    assert response.status_code == 302, response.content.decode()[:1500]
    client.refresh_from_db()
    assert client.name == "Renamed" and client.secrets == SECRETS["picqer"]


def test_request_logs_are_read_only_in_the_admin(signed_in, clients_with_secrets):
    log = RequestLog.objects.get()
    assert signed_in.get(reverse("admin:clients_requestlog_add")).status_code == 403
    page = signed_in.get(reverse("admin:clients_requestlog_change", args=[log.pk])).content.decode()
    assert 'name="_save"' not in page and log.url in page
    response = signed_in.post(reverse("admin:clients_requestlog_change", args=[log.pk]), {"method": "POST"})
    assert response.status_code == 403


def test_test_connection_failure_text_and_logs(signed_in, fake_picqer):
    client = fake_picqer.make_client("picqer-fake")
    client.secrets = {"api_key": "PQ-leak-canary-0001"}  # wrong key: the fake answers 401
    client.save()
    fake_picqer.fail_next(500, body={"message": "internal error for key PQ-leak-canary-0001"})
    response = signed_in.post(reverse("clients:test", args=[client.identifier]), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "500" in text or "401" in text
    _assert_clean(text, "Test connection result")
    logs = RequestLog.objects.filter(client=client).order_by("pk")
    # The 500 is retried (a GET), then the wrong key's 401 ends it: both failures are logged.
    assert [log.status for log in logs] == [500, 401] and "401" in text
    for log in logs:
        _assert_clean(repr(log.__dict__), "request log row")
    client.refresh_from_db()
    _assert_clean(client.last_error, "last_error")
