"""The HTTP request kind: through the one HTTP seam, a per-run GET cache, JMESPath, step errors, live mode."""
import pytest
from django.urls import reverse

from clients.models import RequestLog
from connections.transformers import TransformError, apply_chain, validate_steps
from connections.transformers import context as step_context
from tests.fakes.sync import PipedriveOrganizations


@pytest.fixture
def pipedrive(db):
    with PipedriveOrganizations() as fake:
        fake.organizations.update({1: {"name": "Acme", "owner": {"name": "Bo"}}, 2: {"name": "Beta"}})
        fake.make_client("pipedrive", log_requests=True)
        yield fake


def lookup(**settings):
    return {"kind": "http_request", "settings": {
        "client": "pipedrive", "entity": "GET /v1/organizations/{id}", "path": {"id": "&{org_id}"},
        "select": "data.owner.name", "target": "owner", **settings}}


def test_the_answer_or_a_part_of_it_lands_at_the_key(pipedrive):
    assert apply_chain([lookup()], {"org_id": 1}) == [{"org_id": 1, "owner": "Bo"}]
    assert apply_chain([lookup(select="")], {"org_id": 2})[0]["owner"]["data"]["name"] == "Beta"
    assert RequestLog.objects.filter(url__contains="/organizations/1").exists()  # logged by the seam


def test_identical_gets_in_one_run_are_sent_once(pipedrive):
    ctx = step_context.StepContext(mode=step_context.BUFFERED)
    with step_context.running(ctx):
        for org in (1, 1, 2, 1):
            apply_chain([lookup()], {"org_id": org})
    assert [r.path for r in pipedrive.received] == ["/api/v1/organizations/1", "/api/v1/organizations/2"]
    assert (ctx.http_calls, ctx.http_hits) == (2, 2)


def test_a_failed_request_is_a_step_error_with_the_platforms_answer(pipedrive):
    with pytest.raises(TransformError) as exc:
        apply_chain([lookup()], {"org_id": 404})
    text = str(exc.value)
    assert text.startswith("Step 1 (HTTP request): the request to “Fake pipedrive” failed:") and "404" in text
    assert "Organization not found" in text


def test_nothing_at_the_path_can_drop_or_stop(pipedrive):
    assert apply_chain([lookup(select="data.missing")], {"org_id": 2}) == [{"org_id": 2, "owner": None}]
    assert apply_chain([lookup(select="data.missing", on_empty="drop")], {"org_id": 2}) == []
    with pytest.raises(TransformError, match="has nothing at “data.missing”"):
        apply_chain([lookup(select="data.missing", on_empty="error")], {"org_id": 2})


def test_settings_are_checked_when_saved(pipedrive):
    errors = validate_steps([lookup(client="nope"), lookup(entity="GET /nowhere"), lookup(select="data..x")])
    assert errors[0] == 'Step 1 (HTTP request): there is no HTTP Client "nope".'
    assert "has no entity \"GET /nowhere\"" in errors[1]
    assert errors[2].startswith('Step 3 (HTTP request): "Keep from the answer" is not a valid JMESPath')


def test_the_tester_calls_only_in_live_mode_and_never_saves_to_storages(signed_in, pipedrive):
    from storages.models import Storage, StorageEntry

    Storage.objects.create(name="Seen", identifier="seen")
    form = {"steps-TOTAL": "2", "steps-0-kind": "http_request", "steps-0-client": "pipedrive",
            "steps-0-entity": "GET /v1/organizations/{id}", "steps-0-path": '{"id": "&{org_id}"}',
            "steps-0-select": "data.name", "steps-0-target": "org", "steps-0-on_empty": "keep",
            "steps-1-kind": "save_to_storage", "steps-1-storage": "seen", "steps-1-key": "&{org_id}",
            "input": '{"org_id": 1}'}
    dry = signed_in.post(reverse("connections:transformer_run"), form).content.decode()
    assert "only in live mode" in dry and pipedrive.received == []

    live = signed_in.post(reverse("connections:transformer_run"), {**form, "live": "on"}).content.decode()
    assert "&quot;org&quot;: &quot;Acme&quot;" in live and "<strong>Live</strong>" in live
    assert "Would save key &quot;1&quot; in storage &quot;Seen&quot;" in live
    assert len(pipedrive.received) == 1 and not StorageEntry.objects.exists()
