"""Saved transformers: list, create/edit with a step editor and a live tester, delete, examples.

The editor and the tester are one form: every edit posts the whole form to ``transformer_run``
(htmx, on change and on keyup after a pause) which re-renders only the output. Step add/remove/move
post to ``transformer_steps`` and get the steps partial back plus the output out of band. Without
JavaScript the same buttons submit the page, which re-renders with the change unsaved.
"""
from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from alumio_lite.filters import id_param

from ..models import (
    Incoming,
    IncomingTransformer,
    OutgoingTransformer,
    RouteTransformer,
    Task,
    Transformer,
    TransformerExample,
)
from ..samples import sample_of
from ..transformer_forms import (
    TransformerForm,
    apply_op,
    chain_problems,
    parse_input,
    rows_from_post,
    rows_from_steps,
)
from ..transformers import KINDS, TransformError, apply_chain, describe_step, trace_chain
from ..transformers import context as step_context

INPUT_LIMIT = 50  # entities loaded into the tester from an incoming's Run test


def transformer_list(request: HttpRequest) -> HttpResponse:
    transformers = Transformer.objects.annotate(example_count=Count("examples")).order_by("name")
    used_by = usage_links()
    return render(request, "connections/transformer_list.html", {
        "title": "Transformers",
        "transformers": [(t, [describe_step(s) for s in t.steps[:4]], used_by.get(t.pk, [])) for t in transformers],
    })


def usage_links() -> dict[int, list[tuple[str, str, str]]]:
    """Transformer id -> (kind, name, url) of every incoming, route and outgoing using it (three queries)."""
    found: dict[int, list[tuple[str, str, str]]] = {}
    for link in IncomingTransformer.objects.select_related("incoming").order_by("incoming__name"):
        found.setdefault(link.transformer_id, []).append(
            ("Incoming", link.incoming.name, link.incoming.get_absolute_url()))
    for link in RouteTransformer.objects.select_related("route").order_by("route__name"):
        found.setdefault(link.transformer_id, []).append(("Route", link.route.name, link.route.get_absolute_url()))
    for link in OutgoingTransformer.objects.select_related("outgoing").order_by("outgoing__name"):
        found.setdefault(link.transformer_id, []).append(
            ("Outgoing", link.outgoing.name, link.outgoing.get_absolute_url()))
    return found


def usages(transformer: Transformer) -> list[str]:
    """Where a transformer is attached, in words: what blocks deleting it."""
    found = []
    for link in IncomingTransformer.objects.filter(transformer=transformer).select_related("incoming"):
        found.append(f'incoming "{link.incoming.name}" ({link.get_stage_display().lower()} transformers)')
    for link in RouteTransformer.objects.filter(transformer=transformer).select_related("route"):
        found.append(f'route "{link.route.name}"')
    for link in OutgoingTransformer.objects.filter(transformer=transformer).select_related("outgoing"):
        found.append(f'outgoing "{link.outgoing.name}"')
    return found


# ------------------------------------------------------------------------------------------ tester


def _live(request: HttpRequest) -> bool:
    """“Live: call platforms” ticked: HTTP request steps may call their clients from the tester."""
    return request.method == "POST" and request.POST.get("live") == "on"


def run_tester(rows: list, input_text: str, live: bool = False) -> dict[str, Any]:
    """Run the edited chain on the tester input; the context for _transformer_output.html.

    Storage writes are never made here (dry run: the output says what would be saved); HTTP request
    steps call their platform only in live mode.
    """
    problems = chain_problems(rows)
    if problems:
        return {"problems": problems}
    entities, input_error = parse_input(input_text)
    if input_error:
        return {"input_error": input_error}
    steps = [row.as_step() for row in rows]
    entities = entities or []
    ctx = step_context.StepContext(mode=step_context.DRY_RUN, live=live)
    try:
        with step_context.running(ctx):
            outputs, trace = trace_chain(steps, entities)
    except TransformError as exc:
        return {"error": exc, "notes": ctx.notes, "live": live}
    count_in = len(entities)
    return {
        "ran": True,
        "count_in": count_in,
        "trace": [(label[:1].upper() + label[1:], n) for label, n in trace],
        "outputs": outputs,
        "output_json": json.dumps(outputs if count_in > 1 or len(outputs) != 1 else outputs[0], indent=2,
                                  ensure_ascii=False),
        "example_output": outputs,
        "notes": ctx.notes,
        "live": live,
        "http_calls": ctx.http_calls,
    }


def _input_sources() -> dict[str, Any]:
    """The tester's Load choices; only what the options show (not each task's data or run-test entities)."""
    return {
        "recent_tasks": Task.objects.select_related("route").only("id", "status", "route__name")
        .order_by("-created_at", "-id")[:20],
        "tested_incomings": Incoming.objects.exclude(last_test__isnull=True).only("id", "name").order_by("name"),
    }


def _tested_entities(incoming: Incoming, entities: list) -> Any:
    """An incoming's last Run test entities as tester input: one entity as an object, else at most INPUT_LIMIT.

    Samples again on the way out: a Run test saved before samples were redacted and cut shows no secret either.
    """
    secrets = incoming.client.secret_values()
    entities = [sample_of(entity, secrets) for entity in entities[:INPUT_LIMIT]]
    return entities[0] if len(entities) == 1 else entities


def _tasks():
    return Task.objects.select_related("route__incoming__client", "route__outgoing__client")


def _task_input(task: Task) -> Any:
    """A task's data as tester input, redacted with the secrets of both HTTP Clients of its route."""
    route = task.route
    return sample_of(task.data, [*route.incoming.client.secret_values(), *route.outgoing.client.secret_values()])


def _editor_context(request: HttpRequest, transformer: Transformer | None, form: TransformerForm, rows: list,
                    input_text: str) -> dict[str, Any]:
    return {
        "title": transformer.name if transformer else "New transformer",
        "transformer": transformer,
        "form": form,
        "rows": rows,
        "kinds": KINDS.values(),
        "input_text": input_text,
        "result": run_tester(rows, input_text, _live(request)) if input_text.strip() else {},
        "live": _live(request),
        "examples": _example_results(transformer) if transformer else [],
        **_input_sources(),
    }


def _example_results(transformer: Transformer) -> list[tuple[TransformerExample, bool]]:
    results = []
    for example in transformer.examples.order_by("-created_at", "-id"):
        results.append((example, example_matches(transformer.steps, example)))
    return results


def example_matches(steps: list[dict], example: TransformerExample) -> bool:
    entities = example.input if isinstance(example.input, list) else [example.input]
    try:
        got = [out for entity in entities for out in apply_chain(steps, entity)]
    except TransformError:
        return False
    return got == example.output


def _editor(request: HttpRequest, transformer: Transformer | None) -> HttpResponse:
    if request.method != "POST":
        form = TransformerForm(instance=transformer)
        rows = rows_from_steps(transformer.steps if transformer else [])
        input_text = _initial_input(request)
        return render(request, "connections/transformer_form.html",
                      _editor_context(request, transformer, form, rows, input_text))

    form = TransformerForm(request.POST, instance=transformer)
    rows = rows_from_post(request.POST)
    input_text = request.POST.get("input", "")
    op = request.POST.get("op", "")
    if op:  # an editing click without JavaScript: show the change, save nothing
        rows = apply_op(rows, op, request.POST.get("new_kind", ""))
        return render(request, "connections/transformer_form.html",
                      _editor_context(request, transformer, form, rows, input_text))

    action = request.POST.get("action", "save")
    problems = chain_problems(rows)
    result = run_tester(rows, input_text, _live(request)) if action == "example" else {}
    example_problem = ""
    if action == "example" and not result.get("ran"):
        example_problem = "Nothing saved: the example needs an input that runs through the chain without errors."
    if form.is_valid() and not problems and not example_problem:
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.steps = [row.as_step() for row in rows]
            saved.save()
            if action == "example":
                entities, _ = parse_input(input_text)
                stored_input = entities[0] if entities and len(entities) == 1 else entities
                TransformerExample.objects.create(transformer=saved, input=stored_input,
                                                  output=result["example_output"])
        if action == "example":
            messages.success(request, f'Saved "{saved.name}" and the current input and output as an example.')
        else:
            messages.success(request, f'Saved transformer "{saved.name}".')
        return redirect(reverse("connections:transformer_edit", args=[saved.pk]))

    if problems:
        messages.error(request, "Nothing saved: fix the steps marked below.")
    elif example_problem:
        messages.error(request, example_problem)
    context = _editor_context(request, transformer, form, rows, input_text)
    return render(request, "connections/transformer_form.html", context, status=400)


def _initial_input(request: HttpRequest) -> str:
    """The tester's input from ?task=<id> (its data) or ?incoming=<id> (its last Run test's entities)."""
    task_id = id_param(request.GET.get("task"))
    if task_id:
        task = _tasks().filter(pk=task_id).first()
        if task:
            return json.dumps(_task_input(task), indent=2, ensure_ascii=False)
    incoming_id = id_param(request.GET.get("incoming"))
    if incoming_id:
        incoming = Incoming.objects.select_related("client").filter(pk=incoming_id).first()
        entities = incoming.last_test if incoming else None
        if isinstance(entities, list) and entities:
            return json.dumps(_tested_entities(incoming, entities), indent=2, ensure_ascii=False)
    return ""


def transformer_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


def transformer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(Transformer, pk=pk))


@require_POST
def transformer_run(request: HttpRequest) -> HttpResponse:
    """The tester's output for the posted chain and input (htmx partial)."""
    rows = rows_from_post(request.POST)
    return render(request, "connections/_transformer_output.html",
                  {"result": run_tester(rows, request.POST.get("input", ""), _live(request))})


@require_POST
def transformer_steps(request: HttpRequest) -> HttpResponse:
    """Add/remove/move a step: the steps partial, and the output out of band."""
    rows = apply_op(rows_from_post(request.POST), request.POST.get("op", ""), request.POST.get("new_kind", ""))
    return render(request, "connections/_transformer_steps.html", {
        "rows": rows, "kinds": KINDS.values(), "oob_output": True,
        "result": run_tester(rows, request.POST.get("input", ""), _live(request))
        if request.POST.get("input", "").strip() else {},
    })


@require_POST
def transformer_load_input(request: HttpRequest) -> HttpResponse:
    """Fill the tester input from a task's data or an incoming's last Run test; output out of band."""
    source = request.POST.get("source", "")
    kind, _, ident = source.partition(":")
    note = ""
    data: Any = None
    if kind == "task" and id_param(ident):
        task = _tasks().filter(pk=ident).first()
        data = _task_input(task) if task else None
        note = f"Loaded the data of task {ident}." if task else f"Task {ident} no longer exists."
    elif kind == "incoming" and id_param(ident):
        incoming = Incoming.objects.select_related("client").filter(pk=ident).first()
        entities = incoming.last_test if incoming else None
        if isinstance(entities, list):
            data = _tested_entities(incoming, entities)
            shown = min(len(entities), INPUT_LIMIT)
            note = f'Loaded {shown} of {len(entities)} entities from the last Run test of "{incoming.name}".'
        else:
            note = "That incoming has no Run test yet."
    else:
        note = "Choose a task or an incoming to load from."
    input_text = json.dumps(data, indent=2, ensure_ascii=False) if data is not None else request.POST.get("input", "")
    rows = rows_from_post(request.POST)
    return render(request, "connections/_transformer_input.html", {
        "input_text": input_text, "note": note, "oob_output": True, "live": _live(request),
        "result": run_tester(rows, input_text, _live(request)) if input_text.strip() else {},
        **_input_sources(),
    })


@require_POST
def transformer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    transformer = get_object_or_404(Transformer, pk=pk)
    used_by = usages(transformer)
    if used_by:
        messages.error(request, f'"{transformer.name}" is not deleted: it is used by {", ".join(used_by)}. '
                                "Detach it there first.")
        return redirect(reverse("connections:transformer_edit", args=[pk]))
    name = transformer.name
    transformer.delete()
    messages.success(request, f'Deleted transformer "{name}" and its examples.')
    return redirect(reverse("connections:transformer_list"))


@require_POST
def transformer_example_delete(request: HttpRequest, pk: int, example_pk: int) -> HttpResponse:
    example = get_object_or_404(TransformerExample, pk=example_pk, transformer_id=pk)
    example.delete()
    messages.success(request, "Deleted the example.")
    return redirect(reverse("connections:transformer_edit", args=[pk]) + "#examples")


urlpatterns = [
    path("", transformer_list, name="transformer_list"),
    path("new/", transformer_new, name="transformer_new"),
    path("run/", transformer_run, name="transformer_run"),
    path("steps/", transformer_steps, name="transformer_steps"),
    path("load-input/", transformer_load_input, name="transformer_load_input"),
    path("<int:pk>/", transformer_edit, name="transformer_edit"),
    path("<int:pk>/delete/", transformer_delete, name="transformer_delete"),
    path("<int:pk>/examples/<int:example_pk>/delete/", transformer_example_delete,
         name="transformer_example_delete"),
]
