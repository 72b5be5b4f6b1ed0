"""Property: no form, filter, htmx endpoint or import of the dashboard answers a 500, whatever is typed.

The pages are found by crawling (tests/robustness/crawl.py), so new forms are covered without a
change here. Every form gets hostile values in some of its fields (the others keep what the page
filled in, so the hostile value reaches the deeper checks): NaN, 1e309, 40-digit and 5,000-digit
numbers, lone surrogates and NUL characters inside JSON, 5,000-deep nesting, "²", cron fields that
never happen, and arbitrary text. Afterwards every page is read again: whatever was saved must not
break a page either.

CI-friendly: a bounded number of examples per form, no deadline, no example database.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.models import HttpClient, RequestLog
from connections import run_test, schedules
from connections.models import Incoming, Outgoing, Route, RouteTransformer, Run, RunTest, Task, Transformer
from connections.transformers import KINDS

from .crawl import crawl

pytestmark = pytest.mark.django_db

EXAMPLES_PER_FORM = 10

DEEP = "[" * 5000 + "]" * 5000
# Values Python's json reads but no database stores the same way, or that break a page.
BAD_LEAVES = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "9" * 5000, '"\\ud800"', '"a\\u0000b"',
              "[" * 900 + "]" * 900]
HOSTILE_JSON = [
    *(f'{{"query": {{"q": {leaf}}}}}' for leaf in BAD_LEAVES),  # the shape Request Parameters take
    *(f"[{{\"key\": \"a\", \"op\": \"equals\", \"value\": {leaf}}}]" for leaf in BAD_LEAVES),  # conditions
    *BAD_LEAVES, DEEP, "{" * 3000, '{"\\ud800": 1}', '{"k\\u0000": 1}', '{"query": ' * 900 + "{}" + "}" * 900,
    '{"path": {"id": NaN}, "query": {"q": "\\ud800"}}',
]
HOSTILE_TEXT = [
    "", " ", "-1", "0", "²", "¹", "١٢", "9" * 40, "99999999999999999999", "\x00", "a\x00b", "* * * * *",
    "*/0 * * * *", "61 * * * *", "0 0 31 2 *", "a b c d e", "0\x00 * * * *", "<script>alert(1)</script>",
    "' OR 1=1 --", "../../etc/passwd", "%00", "x" * 100_000, "true", "null", "[]", "{}", '"text"',
]

_leaf = st.one_of(st.sampled_from(BAD_LEAVES), st.integers().map(str), st.text(max_size=20).map(json.dumps))


def _json_text(leaves: list[str], depth: int, wrap: str) -> str:
    text = ", ".join(leaves) if wrap == "[" else ", ".join(f'"k{i}": {v}' for i, v in enumerate(leaves))
    text = ("[" + text + "]") if wrap == "[" else ("{" + text + "}")
    return '{"a": ' * depth + text + "}" * depth


safe_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)  # a browser can't send surrogates
hostile_json = st.one_of(
    st.sampled_from(HOSTILE_JSON),
    st.builds(_json_text, st.lists(_leaf, max_size=4), st.sampled_from([0, 1, 70, 1500]), st.sampled_from("[{")),
)
hostile_text = st.one_of(st.sampled_from(HOSTILE_TEXT + HOSTILE_JSON), safe_text)


def hostile_for(form, name: str):
    """Hostile values that suit the field: JSON where JSON is typed, ids and words elsewhere."""
    if name in form.textareas or name in form.files:
        return st.one_of(hostile_json, hostile_text)
    if form.choices.get(name):
        return st.one_of(st.sampled_from(form.choices[name]), hostile_text)
    return hostile_text


@pytest.fixture
def world(db, settings, monkeypatch):
    """One of everything, so every page and form exists; the HTTP Client points at a closed port."""
    monkeypatch.setattr(run_test, "BACKGROUND", False)
    settings.HTTP_CONNECT_TIMEOUT = 0.5
    settings.HTTP_MAX_RETRIES = 0
    client = HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer",
                                       settings={"base_uri": "http://127.0.0.1:9/api/v1"},
                                       secrets={"api_key": "picqer-secret-key-123"}, log_requests=True)
    target = HttpClient.objects.create(name="Pipedrive", identifier="pipedrive", platform="pipedrive",
                                       settings={"base_uri": "http://127.0.0.1:9"},
                                       secrets={"api_token": "pipedrive-secret-123"})
    every_kind = Transformer.objects.create(name="Every kind", identifier="every-kind", steps=[
        {"kind": key, "settings": kind.example} for key, kind in KINDS.items()])
    incoming = Incoming.objects.create(name="Customers", identifier="customers", platform="picqer", method="GET",
                                       entity="GET /customers", client=client, pagination=True,
                                       last_test=[{"idcustomer": 1}])
    outgoing = Outgoing.objects.create(name="Persons", identifier="persons", platform="pipedrive", method="POST",
                                       entity="POST /v1/persons", client=target)
    route = Route.objects.create(name="Customers to persons", identifier="c2p", incoming=incoming, outgoing=outgoing)
    RouteTransformer.objects.create(route=route, transformer=every_kind)
    run = Run.objects.create(incoming=incoming, status=Run.Status.FAILED, error="boom", error_step="page 1")
    Task.objects.create(route=route, run=run, dedupe_key="1", data={"idcustomer": 1}, status=Task.Status.FAILED,
                        response_body='{"error": "x"}')
    RunTest.objects.create(incoming=incoming, status=RunTest.Status.FINISHED, sample=[{"idcustomer": 1}])
    RequestLog.objects.create(client=client, run=run, method="GET", url="http://127.0.0.1:9/api/v1/customers",
                              status=200, response_body=DEEP)
    schedules.save_scheduler(name="Nightly", kind="run_incoming", target_id=incoming.pk, cron="0 3 * * *")


def _submit(client, form, values: dict[str, list[str]], files: dict[str, str]):
    if form.method == "get":
        return client.get(form.action, values)
    data: dict = {k: v for k, v in values.items()}
    for name, text in files.items():
        from django.core.files.uploadedfile import SimpleUploadedFile

        data[name] = SimpleUploadedFile("upload.json", text.encode("utf-8", "surrogatepass"))
    return client.post(form.action, data)


def _fuzzer(client, form):
    names = sorted(set(form.fields) - {"csrfmiddlewaretoken"})

    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def submit(data):
        values = {k: list(v) for k, v in form.fields.items()}
        for name in data.draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=2)) if names else []:
            values[name] = [data.draw(hostile_for(form, name), label=name)]
        files = {name: data.draw(hostile_for(form, name), label=name) for name in form.files}
        response = _submit(client, form, values, files)
        assert response.status_code < 500, f"{form.method.upper()} {form.action} answered {response.status_code}"

    return submit


def test_no_form_filter_or_import_answers_a_server_error(signed_in, world):
    pages, forms = crawl(signed_in)
    assert len(forms) >= 25, "the crawl should find the dashboard's forms"  # guards against a broken crawl
    assert not [url for url, status in pages.items() if status >= 500]

    failures = []
    for form in forms:
        try:
            _fuzzer(signed_in, form)()
        except Exception as exc:  # noqa: BLE001 - every form is tried; all failures are reported together
            failures.append(f"{form.method.upper()} {form.action} (from {form.page}): {type(exc).__name__}: "
                            f"{str(exc)[:300]}")

    # And every JSON field and file once with each known-bad document, so none depends on the draw.
    for form in (f for f in forms if f.parent is None):  # an htmx part sends its form's fields: swept there
        for name in sorted(form.textareas) + form.files:
            for text in HOSTILE_JSON:
                values = {k: list(v) for k, v in form.fields.items()}
                files = {}
                if name in form.files:
                    files[name] = text
                else:
                    values[name] = [text]
                try:
                    status = _submit(signed_in, form, values, files).status_code
                except Exception as exc:  # noqa: BLE001 - reported with the others
                    failures.append(f"{form.method.upper()} {form.action} {name}={text[:60]!r}: {exc!r:.200}")
                else:
                    if status >= 500:
                        failures.append(f"{form.method.upper()} {form.action} {name}={text[:60]!r}: {status}")
    assert not failures, "\n".join(failures)

    # Whatever the fuzzing saved must not break a page for everyone afterwards.
    pages, _ = crawl(signed_in)
    assert not [url for url, status in pages.items() if status >= 500]
