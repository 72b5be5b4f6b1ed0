"""The Transformers pages: list, create/edit with the step editor, tester partials, delete rules."""
import json

import pytest
from django.urls import reverse

from clients.models import HttpClient
from connections.models import Incoming, IncomingTransformer, Route, Task, Transformer, TransformerExample

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def editor_post(name="Shape order", steps=(), input_text="", **extra):
    data = {"name": name, "identifier": "", "description": "", "steps-TOTAL": str(len(steps)), "input": input_text}
    for i, (kind, fields) in enumerate(steps):
        data[f"steps-{i}-kind"] = kind
        for k, v in fields.items():
            data[f"steps-{i}-{k}"] = v
    data.update(extra)
    return data


def test_list_shows_saved_transformers(signed_in):
    Transformer.objects.create(name="Order to payload", identifier="order-to-payload",
                               steps=[{"kind": "cast", "settings": {"key": "price", "to": "number"}}])
    page = signed_in.get(reverse("connections:transformer_list")).content.decode()
    assert "Order to payload" in page and "Cast price to number" in page


def test_list_requires_sign_in(client):
    assert client.get(reverse("connections:transformer_list")).status_code == 302


def test_create_derives_a_unique_identifier_and_saves_the_chain(signed_in):
    Transformer.objects.create(name="Shape order", identifier="shape-order")
    response = signed_in.post(reverse("connections:transformer_new"), editor_post(steps=[
        ("value_setter", {"key": "payload.name", "value": "&{name}", "on_missing": "error"}),
        ("cast", {"key": "id", "to": "integer", "on_missing": "error"}),
        ("remove", {"keys": "secret\ninternal", "on_missing": "skip"}),
        ("filter", {"conditions": '[{"key": "status", "op": "in", "value": ["open"]}]', "match": "all",
                    "action": "keep", "on_missing": "error"}),
    ]))
    assert response.status_code == 302
    saved = Transformer.objects.get(identifier="shape-order-2")
    assert saved.steps == [
        {"kind": "value_setter", "settings": {"key": "payload.name", "value": "&{name}", "on_missing": "error"}},
        {"kind": "cast", "settings": {"key": "id", "to": "integer", "on_missing": "error"}},
        {"kind": "remove", "settings": {"keys": ["secret", "internal"], "on_missing": "skip"}},
        {"kind": "filter", "settings": {"conditions": [{"key": "status", "op": "in", "value": ["open"]}],
                                        "match": "all", "action": "keep", "on_missing": "error"}},
    ]
    # The editor shows the saved chain again, values as typed.
    page = signed_in.get(response["Location"]).content.decode()
    assert "secret\ninternal" in page and "&amp;{name}" in page


def test_a_derived_identifier_falls_back_and_an_edit_keeps_its_own(signed_in):
    signed_in.post(reverse("connections:transformer_new"), editor_post(name="🙂"))
    saved = Transformer.objects.get(identifier="transformer")
    # Clearing the identifier on edit derives it again without clashing with itself.
    response = signed_in.post(reverse("connections:transformer_edit", args=[saved.pk]), editor_post(name="🙂"))
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.identifier == "transformer"


def test_a_typed_identifier_must_be_unique(signed_in):
    Transformer.objects.create(name="A", identifier="taken")
    response = signed_in.post(reverse("connections:transformer_new"), editor_post(identifier="taken"))
    assert response.status_code == 400 and "already exists" in response.content.decode()


def test_bad_step_settings_are_shown_and_nothing_is_lost(signed_in):
    response = signed_in.post(reverse("connections:transformer_new"), editor_post(steps=[
        ("key_mapper", {"mapping": '{"a": "b",', "keep_unmapped": "on", "on_missing": "error"}),
        ("cast", {"key": "", "to": "number", "on_missing": "error"}),
    ]))
    page = response.content.decode()
    assert response.status_code == 400 and not Transformer.objects.exists()
    assert "Not valid JSON: line 1, column 11" in page
    assert "{&quot;a&quot;: &quot;b&quot;," in page  # the half-typed JSON is still in the field
    step_two = page.split('id="step-2"')[1].split('id="step-3"')[0]
    assert "&quot;Key&quot; is required" in step_two and "Nothing saved: fix the steps marked below" in page


def test_step_ops_add_move_remove_return_the_steps_partial(signed_in):
    url = reverse("connections:transformer_steps")
    base = editor_post(steps=[("copy", {"source": "a", "target": "b", "on_missing": "error"}),
                              ("cast", {"key": "b", "to": "string", "on_missing": "error"})],
                       input_text='{"a": 5}')
    added = signed_in.post(url, {**base, "op": "add", "new_kind": "filter"}, **HMTX_HEADERS).content.decode()
    assert "Step 3: Filter" in added and 'name="steps-TOTAL" value="3"' in added
    assert 'hx-swap-oob="innerHTML"' in added  # the output re-renders with the new chain

    moved = signed_in.post(url, {**base, "op": "up:1"}, **HMTX_HEADERS).content.decode()
    assert moved.index("Step 1: Cast") < moved.index("Step 2: Copy key")
    assert 'name="steps-1-source" id="id_steps-1-source" value="a"' in moved
    # Cast now runs first, on a key that is not there yet: the output says where it stopped.
    assert "Stopped at step 1 (Cast)" in moved

    removed = signed_in.post(url, {**base, "op": "remove:0"}, **HMTX_HEADERS).content.decode()
    assert "Step 1: Cast" in removed and "Copy key" not in removed.split("new_kind")[0]


HMTX_HEADERS = HTMX


def test_run_shows_output_drop_branches_and_errors(signed_in):
    url = reverse("connections:transformer_run")
    steps = [("get_branches", {"key": "lines", "keep": "id", "parent_key": "", "item_key": "value",
                               "on_missing": "error"})]
    out = signed_in.post(url, editor_post(steps=steps, input_text='{"id": 1, "lines": [{"a": 1}, {"a": 2}]}'),
                         **HTMX).content.decode()
    assert "2 entities" in out and "one task each" in out and "&quot;id&quot;: 1" in out
    assert "Step 1 (Get branches): 2 out" in out

    out = signed_in.post(url, editor_post(steps=steps, input_text='{"id": 1, "lines": []}'), **HTMX).content.decode()
    assert "Dropped" in out

    out = signed_in.post(url, editor_post(steps=steps, input_text='{"id": 1, "lines": "x"}'), **HTMX).content.decode()
    assert "Stopped at step 1 (Get branches)" in out and 'data-step-index="0"' in out

    out = signed_in.post(url, editor_post(steps=steps, input_text='{"id": 1,\n  "lines": [}'), **HTMX).content.decode()
    assert "The input is not valid JSON: line 2, column 13" in out


def test_load_input_from_a_task_and_from_an_incoming_run_test(signed_in, consultant):
    client_obj = HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer")
    incoming = Incoming.objects.create(name="Orders", identifier="orders", platform="picqer", entity="orders",
                                       client=client_obj, last_test=[{"idorder": 1}, {"idorder": 2}])
    route = Route.objects.create(name="Orders to CRM", identifier="orders-crm", incoming=incoming,
                                 outgoing=_outgoing(client_obj))
    task = Task.objects.create(route=route, dedupe_key="1", data={"idorder": 42, "status": "open"})
    url = reverse("connections:transformer_load_input")
    steps = [("value_setter", {"key": "path.id", "value": "&{idorder}", "on_missing": "error"})]

    out = signed_in.post(url, {**editor_post(steps=steps), "source": f"task:{task.pk}"}, **HTMX).content.decode()
    assert "&quot;idorder&quot;: 42" in out and f"Loaded the data of task {task.pk}" in out
    assert 'hx-swap-oob="innerHTML"' in out and "&quot;id&quot;: 42" in out.split("hx-swap-oob")[1]

    out = signed_in.post(url, {**editor_post(steps=steps), "source": f"incoming:{incoming.pk}"},
                         **HTMX).content.decode()
    assert "Loaded 2 of 2 entities" in out and "2 entities" in out

    page = signed_in.get(reverse("connections:transformer_new") + f"?task={task.pk}").content.decode()
    assert "&quot;status&quot;: &quot;open&quot;" in page and f"Task {task.pk} · Orders to CRM" in page


def test_load_choices_cost_the_same_queries_for_one_task_or_many(signed_in, django_assert_max_num_queries):
    client_obj = HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer")
    incoming = Incoming.objects.create(name="Orders", identifier="orders", platform="picqer", entity="orders",
                                       client=client_obj, last_test=[{"idorder": 1}])
    route = Route.objects.create(name="Orders to CRM", identifier="orders-crm", incoming=incoming,
                                 outgoing=_outgoing(client_obj))
    Task.objects.create(route=route, dedupe_key="0", data={"idorder": 0})
    url = reverse("connections:transformer_new")
    signed_in.get(url)  # the session and user are loaded once
    with django_assert_max_num_queries(20) as one:
        signed_in.get(url)
    Task.objects.bulk_create(Task(route=route, dedupe_key=str(i), data={"idorder": i}) for i in range(1, 15))
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = signed_in.get(url).content.decode()
    assert page.count("· Orders to CRM ·") == 15 and ">Orders</option>" in page


def _outgoing(client_obj):
    from connections.models import Outgoing
    return Outgoing.objects.create(name="CRM deals", identifier="crm-deals", platform="pipedrive", entity="deals",
                                   client=client_obj, method="POST")


def test_save_as_example_saves_chain_input_and_output(signed_in):
    response = signed_in.post(reverse("connections:transformer_new"), editor_post(
        steps=[("cast", {"key": "price", "to": "number", "on_missing": "error"})],
        input_text='{"price": "9.95"}', action="example"))
    assert response.status_code == 302
    example = TransformerExample.objects.get()
    assert example.input == {"price": "9.95"} and example.output == [{"price": 9.95}]
    assert example.transformer.steps[0]["kind"] == "cast"
    page = signed_in.get(response["Location"]).content.decode()
    assert "Matches" in page


def test_save_as_example_refuses_an_input_that_fails(signed_in):
    response = signed_in.post(reverse("connections:transformer_new"), editor_post(
        steps=[("cast", {"key": "price", "to": "number", "on_missing": "error"})],
        input_text='{"price": "abc"}', action="example"))
    assert response.status_code == 400 and not TransformerExample.objects.exists()
    page = response.content.decode()
    assert "Nothing saved" in page and "cannot cast &quot;abc&quot; to a number" in page


def test_delete_is_refused_while_attached_and_works_after(signed_in):
    client_obj = HttpClient.objects.create(name="Picqer", identifier="picqer", platform="picqer")
    incoming = Incoming.objects.create(name="Orders", identifier="orders", platform="picqer", entity="orders",
                                       client=client_obj)
    transformer = Transformer.objects.create(name="Only open", identifier="only-open")
    link = IncomingTransformer.objects.create(incoming=incoming, transformer=transformer, stage="entity")
    url = reverse("connections:transformer_delete", args=[transformer.pk])

    response = signed_in.post(url, follow=True)
    assert Transformer.objects.filter(pk=transformer.pk).exists()
    assert 'is used by incoming &quot;Orders&quot; (entity transformers)' in response.content.decode()

    link.delete()
    response = signed_in.post(url, follow=True)
    assert not Transformer.objects.filter(pk=transformer.pk).exists()
    assert "Deleted transformer" in response.content.decode()


def test_no_javascript_step_ops_re_render_the_page_unsaved(signed_in):
    transformer = Transformer.objects.create(name="T", identifier="t")
    response = signed_in.post(reverse("connections:transformer_edit", args=[transformer.pk]),
                              {**editor_post(name="T"), "op": "add", "new_kind": "move"})
    assert response.status_code == 200 and "Step 1: Move key" in response.content.decode()
    transformer.refresh_from_db()
    assert transformer.steps == []


def test_json_in_value_fields_round_trips():
    from connections.transformer_forms import rows_from_post, rows_from_steps
    steps = [{"kind": "value_setter", "settings": {"key": "a", "value": "5"}},
             {"kind": "value_setter", "settings": {"key": "b", "value": 5}},
             {"kind": "value_setter", "settings": {"key": "c", "value": {"x": "&{id}"}}},
             {"kind": "value_setter", "settings": {"key": "d", "value": "plain text"}}]
    rows = rows_from_steps(steps)
    data = {"steps-TOTAL": "4"}
    for row in rows:
        data[f"steps-{row.index}-kind"] = row.kind_key
        for fr in row.fields:
            data[fr.html_name] = fr.raw
    again = [{"kind": r.kind_key, "settings": {k: v for k, v in r.settings.items() if k in ("key", "value")}}
             for r in rows_from_post(data)]
    assert again == steps
    assert json.loads(rows[0].fields[1].raw) == "5"
