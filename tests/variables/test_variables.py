"""${NAME} environment variables: resolved at call time in HTTP Client fields, parameters and payloads;
unknown ones are a clear error at save and at run time; encrypted ones never shown or logged."""
from __future__ import annotations

import pytest
from django.urls import reverse

from clients.http import ClientSession
from clients.models import HttpClient, RequestLog
from connections import portable
from tests.clients.conftest import dashboard_url  # noqa: F401
from tests.configurations.conftest import make_client, make_incoming
from tests.fakes.fixtures import fake_platform  # noqa: F401
from tests.oauth_server.fixtures import oauth_provider  # noqa: F401
from variables.models import Variable
from variables.resolve import UnknownVariable, resolve

pytestmark = pytest.mark.django_db
TOKEN = "pd-token-9a8b7c6d5e4f"  # the fake Pipedrive's token, kept in an encrypted variable


def test_resolve_replaces_everywhere_and_names_what_is_missing():
    known = {"ORG": "acme", "N": "7"}
    assert resolve({"path": {"id": "${N}"}, "q": ["x-${ORG}", 3], "${ORG}": True}, known) == {
        "path": {"id": "7"}, "q": ["x-acme", 3], "acme": True}
    with pytest.raises(UnknownVariable, match=r"\$\{MISSING\}, \$\{OTHER\}"):
        resolve("${MISSING}/${OTHER}/${ORG}", known)


def _define(name: str, value: str, secret: bool = False) -> Variable:
    return Variable.objects.update_or_create(name=name, defaults={"stored": {"value": value}, "secret": secret})[0]


def _save_client(client, base_uri: str, token: str):
    return client.post(reverse("clients:edit", args=["pd"]), {
        "name": "PD", "identifier": "pd", "base_uri": base_uri, "auth_type": "api_token", "api_token": token,
        "log_requests": "on"})


def test_the_variables_in_force_decide_where_a_call_goes(client, admin_user, fake_platform):  # noqa: F811
    test_server, production = fake_platform("pipedrive"), fake_platform("pipedrive")
    HttpClient.objects.create(name="PD", identifier="pd", platform="pipedrive",
                              settings={"base_uri": "https://acme.pipedrive.com/api", "auth_type": "api_token"},
                              secrets={"api_token": "old"})
    _define("PD_BASE", test_server.base_uri)
    _define("PD_TOKEN", TOKEN, secret=True)
    client.force_login(admin_user)
    assert _save_client(client, "${PD_BASE}", "${PD_TOKEN}").status_code == 302
    assert HttpClient.objects.get().settings["base_uri"] == "${PD_BASE}"  # stored as written

    assert "Connected" in client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    sent = len(test_server.received)  # Test connection makes one call per API version
    assert sent >= 1 and {r.header("x-api-token") for r in test_server.received} == {TOKEN}
    _define("PD_BASE", production.base_uri)  # the same client, another installation's value
    assert "Connected" in client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert len(production.received) == sent and len(test_server.received) == sent

    # The encrypted value is in no page and no request log.
    logs = str(list(RequestLog.objects.values_list("request_headers", "url", "request_body", "response_body")))
    assert RequestLog.objects.exists() and TOKEN not in logs
    for url in (reverse("variables:list"), reverse("variables:edit", args=[Variable.objects.get(name="PD_TOKEN").pk]),
                reverse("clients:detail", args=["pd"]), reverse("clients:request_logs")):
        assert TOKEN not in client.get(url).content.decode(), url


def test_parameters_and_payloads_resolve_at_call_time(fake_platform):  # noqa: F811
    fake = fake_platform("pipedrive")
    pd = fake.make_client("pd")
    _define("ORG", "acme")
    with ClientSession(pd) as session:
        session.send("GET", fake.base_uri + "/v1/users/me", params={"org": "${ORG}"})
        session.send("POST", fake.base_uri + "/v1/persons", json={"name": "${ORG} B.V."})
    assert fake.received[0].query["org"] == "acme"
    assert fake.received[1].body == {"name": "acme B.V."}


def test_unknown_names_are_refused_at_save_and_fail_clearly_at_run_time(client, admin_user, fake_platform):  # noqa: F811
    fake = fake_platform("pipedrive")
    pd = fake.make_client("pd")
    client.force_login(admin_user)
    body = _save_client(client, "${NOT_DEFINED}", TOKEN).content.decode()
    assert "Unknown environment variable ${NOT_DEFINED}: add it under Settings -&gt; Environment variables" in body
    HttpClient.objects.filter(pk=pd.pk).update(settings={**pd.settings, "base_uri": "${GONE}"})
    body = client.post(reverse("clients:test", args=["pd"]), HTTP_HX_REQUEST="true").content.decode()
    assert "unknown environment variable ${GONE}" in body
    assert fake.received == []


def test_an_import_reports_the_variables_it_misses():
    copper = make_client("copper")
    incoming = make_incoming(copper, "POST /people", {"query": {"org": "${ORG_ID}", "x": "${DEFINED}"}})
    _define("DEFINED", "1")
    document = portable.loads(portable.dumps(portable.export_document(incoming=[incoming])))
    assert "${ORG_ID}" in portable.dumps(document)  # names travel, values do not
    assert portable.import_document(document, dry_run=True).missing_variables == ["ORG_ID"]


def test_secret_values_are_never_shown_back(client, admin_user):
    variable = _define("API_KEY", "very-secret-canary-71", secret=True)
    client.force_login(admin_user)
    assert "very-secret-canary-71" not in client.get(reverse("variables:edit", args=[variable.pk])).content.decode()
    client.post(reverse("variables:edit", args=[variable.pk]), {"name": "API_KEY", "value": "", "secret": "on"})
    variable.refresh_from_db()
    assert variable.value == "very-secret-canary-71"  # blank kept it


def test_transformer_settings_resolve_when_the_chain_runs():
    from connections.transformers import TransformError, apply_chain

    steps = [{"kind": "value_setter", "settings": {"key": "source", "value": "${SOURCE_NAME}"}}]
    with pytest.raises(TransformError, match=r"Unknown environment variable \$\{SOURCE_NAME\}"):
        apply_chain(steps, {"id": 1})
    _define("SOURCE_NAME", "shop-nl")
    assert apply_chain(steps, {"id": 1}) == [{"id": 1, "source": "shop-nl"}]
    _define("SOURCE_NAME", "shop-de")
    assert apply_chain(steps, {"id": 1}) == [{"id": 1, "source": "shop-de"}]


def test_configurations_refuse_unknown_names_at_save_but_imports_only_report_them(client, admin_user):
    from tests.configurations.test_validation import outgoing_post

    copper = make_client("copper")
    client.force_login(admin_user)
    data = outgoing_post(copper, "POST", "Create a New Company", payload='{"name": "${COMPANY_NAME}"}')
    body = client.post(reverse("connections:outgoing_create"), data).content.decode()
    assert "Unknown environment variable ${COMPANY_NAME}" in body
    _define("COMPANY_NAME", "Acme")
    assert client.post(reverse("connections:outgoing_create"), data).status_code == 302

    pipedrive = make_client("pipedrive")
    incoming = make_incoming(pipedrive, "Get one user", {"path": {"id": "${USER_ID}"}})
    document = portable.loads(portable.dumps(portable.export_document(incoming=[incoming])))
    incoming.delete()
    report = portable.import_document(document)
    assert report.applied, report.changes
    assert report.missing_variables == ["USER_ID"]


def test_grant_access_uses_variables_in_oauth_fields(signed_in, oauth_provider, dashboard_url):  # noqa: F811
    from tests.clients.conftest import make_oauth_client
    from tests.clients.test_grant_access import grant

    client = make_oauth_client(oauth_provider)
    _define("TIMELY_TOKEN_URL", client.settings["token_url"])
    _define("TIMELY_SECRET", client.secrets["client_secret"], secret=True)
    HttpClient.objects.filter(pk=client.pk).update(
        settings={**client.settings, "token_url": "${TIMELY_TOKEN_URL}"}, secrets={"client_secret": "${TIMELY_SECRET}"})
    client.refresh_from_db()
    assert grant(signed_in, oauth_provider, client).status_code == 302
    client.refresh_from_db()
    assert client.auth_state == "granted" and client.tokens["access_token"]
    assert client.settings["token_url"] == "${TIMELY_TOKEN_URL}"  # still the name, not the value
    assert Variable.objects.get(name="TIMELY_SECRET").value in client.secret_values()  # redacted like a secret
