"""The audit trail: who changed what and when, secrets only as "changed", events, filters, retention."""
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.retention import prune
from clients.models import HttpClient
from connections.models import Route, Task
from tests.clients.conftest import dashboard_url  # noqa: F401
from tests.configurations.conftest import make_client, make_incoming, make_outgoing
from tests.oauth_server.fixtures import oauth_provider  # noqa: F401

pytestmark = pytest.mark.django_db


def _entries(obj):
    return LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk")


def test_an_editor_changing_an_outgoing_is_recorded_with_the_diff(client, editor, viewer):
    copper = make_client("copper")
    outgoing = make_outgoing(copper, "Create a New Company", name="Companies", payload={"name": "Acme"})
    client.force_login(editor)
    data = {"name": "Companies to Copper", "identifier": outgoing.identifier, "platform": "copper",
            "method": outgoing.method, "entity": outgoing.entity, "client": str(copper.pk), "query": "",
            "payload": '{"name": "Acme B.V."}'}
    response = client.post(reverse("connections:outgoing_edit", args=[outgoing.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = _entries(outgoing).filter(action=LogEntry.Action.UPDATE).get()
    assert change.actor == editor
    assert change.changes_dict["name"] == ["Companies", "Companies to Copper"]
    assert "Acme B.V." in str(change.changes_dict["payload"])
    # Shown on the outgoing's own page, to a Viewer too.
    client.force_login(viewer)
    page = client.get(reverse("connections:outgoing_edit", args=[outgoing.pk])).content.decode()
    assert "History" in page and "eddie-editor" in page and "Companies to Copper" in page


def test_secrets_appear_only_as_changed(client, admin_user):
    pd = HttpClient.objects.create(name="PD", identifier="pd", platform="pipedrive",
                                   settings={"base_uri": "https://acme.pipedrive.com/api", "auth_type": "api_token"},
                                   secrets={"api_token": "old-token-canary-51"})
    pd.name = "PD"
    pd.save()  # nothing changed: no entry (an encrypted field re-encrypts, but its value is the same)
    assert not _entries(pd).filter(action=LogEntry.Action.UPDATE).exists()
    client.force_login(admin_user)
    client.post(reverse("clients:edit", args=["pd"]), {
        "name": "PD", "identifier": "pd", "base_uri": "https://acme.pipedrive.com/api", "auth_type": "api_token",
        "api_token": "new-token-canary-52"})
    pd.refresh_from_db()
    assert pd.secrets["api_token"] == "new-token-canary-52"
    stored = str(list(LogEntry.objects.values_list("changes", "changes_text", "serialized_data")))
    assert "canary" not in stored
    change = _entries(pd).filter(action=LogEntry.Action.UPDATE).get()
    assert change.changes_dict["secrets"] == ["(secret)", "(secret)"] and change.actor == admin_user
    for url in (reverse("clients:detail", args=["pd"]), reverse("audit:audit_log")):
        body = client.get(url).content.decode()
        assert "canary" not in body and "<em>changed</em>" in body, url


def test_runs_retries_skips_and_deletions_name_their_user(client, editor, admin_user):
    copper = make_client("copper")
    incoming = make_incoming(copper, "POST /people")
    outgoing = make_outgoing(copper, "Create a New Company")
    route = Route.objects.create(name="R", identifier="r", incoming=incoming, outgoing=outgoing)
    failed = Task.objects.create(route=route, dedupe_key="a", data={}, status=Task.Status.FAILED)
    client.force_login(editor)
    client.post(reverse("connections:run_start", args=[incoming.pk]))
    client.post(reverse("connections:task_bulk"), {"task": [failed.pk], "action": "retry"})
    client.post(reverse("connections:task_bulk"), {"task": [failed.pk], "action": "skip"})
    events = {(e.additional_data["event"], e.object_repr, e.actor.username)
              for e in LogEntry.objects.filter(action=LogEntry.Action.ACCESS)}
    assert {("Run now", str(incoming), "eddie-editor"), ("Retry tasks", "R", "eddie-editor"),
            ("Skip tasks", "R", "eddie-editor")} <= events
    route_pk = route.pk
    client.post(reverse("connections:route_delete", args=[route_pk]))
    deleted = LogEntry.objects.get(action=LogEntry.Action.DELETE, object_pk=str(route_pk), object_repr="R")
    assert deleted.actor == editor


def test_key_rotation_is_recorded():
    call_command("rotate_encryption_key", stdout=open("/dev/null", "w"))
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data["event"] == "Encryption key rotation" and entry.actor is None


def test_role_changes_are_recorded(client, admin_user, viewer):
    client.force_login(admin_user)
    client.post(reverse("accounts:user_edit", args=[viewer.pk]), {"role": "Editor", "is_active": "on", "email": ""})
    groups = [e.changes_dict.get("groups") for e in _entries(viewer) if "groups" in (e.changes_dict or {})]
    assert any("Editor" in str(g) for g in groups)


def test_filters_and_read_only(client, admin_user, editor):
    copper = make_client("copper")
    make_outgoing(copper, "Create a New Company", name="Filtered")
    client.force_login(admin_user)
    page = client.get(reverse("audit:audit_log"), {"action": "created", "q": "Filtered"}).content.decode()
    assert "Filtered" in page and "Copper main" not in page
    assert "Nothing recorded that matches" in client.get(
        reverse("audit:audit_log"), {"user": editor.pk}).content.decode()
    entry = LogEntry.objects.first()
    assert client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 200  # view only
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_retention(settings):
    make_client("copper")
    old = LogEntry.objects.first()
    LogEntry.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(days=400))
    settings.RETENTION_DAYS_AUDIT_LOG = 365
    assert prune() == 1 and not LogEntry.objects.filter(pk=old.pk).exists()


def test_grant_access_is_recorded(signed_in, consultant, oauth_provider, dashboard_url):  # noqa: F811
    from tests.clients.conftest import make_oauth_client
    from tests.clients.test_grant_access import grant

    client = make_oauth_client(oauth_provider)
    assert grant(signed_in, oauth_provider, client).status_code == 302
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data["event"] == "Grant access" and entry.actor == consultant
    assert entry.object_pk == str(client.pk)
    stored = str(list(LogEntry.objects.values_list("changes", "changes_text", "additional_data")))
    client.refresh_from_db()
    assert client.tokens["access_token"] not in stored


def test_webhooks_and_storages_are_followed_with_secrets_masked():
    from storages.models import Storage
    from webhooks.models import Webhook

    storage = Storage.objects.create(name="Ids", identifier="ids")
    webhook = Webhook.objects.create(name="Hook", identifier="hook", secrets={"hmac_secret": "hook-canary-61"})
    webhook.secrets = {"hmac_secret": "hook-canary-62"}
    webhook.save()
    assert _entries(storage).filter(action=LogEntry.Action.CREATE).exists()
    assert _entries(webhook).filter(action=LogEntry.Action.UPDATE).get().changes_dict["secrets"] == [
        "(secret)", "(secret)"]
    assert "canary" not in str(list(LogEntry.objects.values_list("changes", flat=True)))
