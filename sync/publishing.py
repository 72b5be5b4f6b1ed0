"""Create or update: what an outgoing with ID mapping sends for one task.

The engine's Publisher calls ``send()`` instead of sending the task's request itself, and
``commit()`` inside the transaction that saves the tasks' outcomes, so a destination id is saved
in the same transaction as the "Finished" of the task that created it.

A create whose outcome is unknown (the worker died after sending it, the connection broke, the
platform answered 5xx) must not create a second record on the next attempt. Before a create is
sent, a marker ``{"creating": true, "task": N}`` is committed under the source id. A later attempt
that finds the marker asks the platform first when a lookup is configured (a search by something
the record carries) and updates what it finds; without a lookup it stops and the task is marked
"Needs review", saying what to check.
"""
from __future__ import annotations

from typing import Any

import jmespath
from django.utils import timezone
from jmespath.exceptions import JMESPathError

from connections.transformers import TransformError, context, render_template
from storages import store
from variables import resolve as variables

from .models import CreateOrUpdate

REVIEW_PREFIX = "Needs review:"

# Where each platform's create answer carries the new record's id (a JMESPath), and how to look one up.
RESPONSE_ID_PATHS = {"pipedrive": "data.id", "picqer": "idcustomer", "copper": "id", "timely": "id",
                     "connectwise": "id"}


def needs_review(message: str) -> Exception:
    """The task must not be sent again until a person checks the destination: it fails with this message."""
    from connections.engine import StepError

    return StepError("create or update", f"{REVIEW_PREFIX} {message}")


def settings_for(publisher, outgoing) -> CreateOrUpdate | None:
    cache = publisher.__dict__.setdefault("_create_or_update", {})
    if outgoing.pk not in cache:
        found = CreateOrUpdate.objects.filter(outgoing=outgoing, enabled=True).select_related("storage").first()
        cache[outgoing.pk] = found
    return cache[outgoing.pk]


def _pending(publisher) -> context.StepContext:
    """The publisher's buffered writes: destination ids and outgoing-chain storage writes, saved at flush."""
    ctx = publisher.__dict__.get("_sync_writes")
    if ctx is None:
        ctx = publisher._sync_writes = context.StepContext(mode=context.BUFFERED, source="publisher")
    return ctx


def run_chain(publisher, chain, task) -> list[dict]:
    """Run the outgoing transformers on a task; their storage writes wait for the task to finish."""
    pending = _pending(publisher)
    # The task's storage writes wait in its own scratch; HTTP sessions and the GET cache are the publisher's.
    scratch = context.StepContext(mode=context.BUFFERED, source=f"task {task.pk}", task=task,
                                  sessions=pending.sessions, owns_sessions=False, http_cache=pending.http_cache)
    with context.running(scratch):
        datas = chain(task.data, "outgoing transformers")
    publisher.__dict__.setdefault("_task_writes", {})[task.pk] = scratch
    return datas


def close(publisher) -> None:
    ctx = publisher.__dict__.get("_sync_writes")
    if ctx is not None:
        ctx.close()


def commit(publisher, finished_task_ids) -> None:
    """Inside the outcomes' transaction: save the pending destination ids and finished tasks' storage writes."""
    pending = _pending(publisher)
    scratch = publisher.__dict__.get("_task_writes", {})
    for task_id in list(scratch):
        ctx = scratch.pop(task_id)
        if task_id in finished_task_ids:
            for (storage_id, key), value in ctx.writes.items():
                pending._storages_by_id[storage_id] = ctx._storages_by_id[storage_id]
                pending.writes[(storage_id, key)] = value
    pending.commit()


def send(publisher, session, outgoing, task, datas: list[dict]):
    """Send the task's request(s); the response of the last one."""
    from connections.preview import merge_parts

    plan = settings_for(publisher, outgoing)
    if plan is None:
        response = None
        for data in datas:
            path, query, payload = merge_parts(outgoing, data, resolve_variables=True)
            response = session.call(outgoing.entity, path, query, payload, method=outgoing.method or None,
                                    step=f"task {task.pk}", resolve_variables=False)
        return response
    if len(datas) != 1:
        raise ValueError(f"create or update sends one request per task, but the outgoing transformers made "
                         f"{len(datas)} entities of it. Remove the step that splits them.")
    return _create_or_update(publisher, session, outgoing, plan, task, datas[0])


def source_key(plan: CreateOrUpdate, data: dict) -> str:
    try:
        return store.check_key(render_template(plan.source_key, data))
    except (TransformError, store.BadKey) as exc:
        raise ValueError(f"the source id “{plan.source_key}” could not be read from the task's data: {exc} "
                         "Keep the source record's id in the data (e.g. with a route transformer).") from None


def _create_or_update(publisher, session, outgoing, plan: CreateOrUpdate, task, data: dict):
    from clients import http
    from connections.preview import merge_parts

    path, query, payload = merge_parts(outgoing, data, resolve_variables=True)
    pending = _pending(publisher)
    storage = plan.storage
    pending._storages_by_id[storage.pk] = storage
    key = source_key(plan, data)
    destination = _data_id(plan, data)
    entry = pending.read(storage, key) if destination is None else None
    if isinstance(entry, dict) and entry.get("id") not in (None, ""):
        destination = entry["id"]
    elif isinstance(entry, dict) and entry.get("creating"):
        destination = _after_unknown_create(session, plan, task, data, entry, key)
        if destination is not None:
            pending.writes[(storage.pk, key)] = _mapped(destination, task, "found by the lookup")
    if destination is not None:
        path = {**path, plan.id_parameter: destination}
        return session.call(plan.update_entity, path, query, payload, step=f"task {task.pk} (update {destination})",
                            resolve_variables=False)

    # A create: first say so durably, so a crash after the request cannot go unnoticed.
    store.save(storage, key, {"creating": True, "task": task.pk, "at": timezone.now().isoformat()},
               source=f"task {task.pk}")
    try:
        response = session.call(outgoing.entity, path, query, payload, method=outgoing.method or None,
                                 step=f"task {task.pk} (create)", resolve_variables=False)
    except (http.ClientError, http.RateLimited):
        # The platform refused it: nothing was created, the marker would only block the retry.
        store.delete(storage, [key], source=f"task {task.pk}")
        raise
    new_id = _search(plan.response_id_path, response.data)
    if new_id in (None, ""):
        raise needs_review(
            f"the record was created, but its answer has no id at “{plan.response_id_path}”, so "
            "the mapping was not saved. Correct “Id in the create response” on the outgoing configuration, then "
            f"record the new id under key “{key}” in storage “{storage.name}”.")
    pending.writes[(storage.pk, key)] = _mapped(new_id, task, "created")
    return response


def _mapped(destination: Any, task, how: str) -> dict:
    return {"id": destination, "task": task.pk, "how": how, "at": timezone.now().isoformat()}


def _data_id(plan: CreateOrUpdate, data: dict) -> Any:
    if not plan.data_id_key:
        return None
    from connections.transformers import get_path

    value = get_path(data, plan.data_id_key, None)
    return None if value in (None, "") else value


def _search(expression: str, data: Any) -> Any:
    try:
        return jmespath.search(expression, data)
    except JMESPathError:
        return None


def _after_unknown_create(session, plan: CreateOrUpdate, task, data: dict, entry: dict, key: str) -> Any:
    """An earlier create for this source id has no saved answer: find the record, or stop for review."""
    earlier = f"task {entry.get('task')}" if entry.get("task") else "an earlier task"
    if not plan.lookup_entity:
        raise needs_review(
            f"a create for source id “{key}” was sent by {earlier} at {entry.get('at', '?')} and "
            f"its answer was never saved (the worker stopped, or the connection broke). The record may exist "
            f"at the destination. Check, then record its id on this task's page, or choose “Create it”.")
    lookup_data = {**data, "source_id": key}
    # The configured criteria get today's ${NAME}s; the data filled into them is never resolved.
    criteria = render_template(variables.resolve(plan.lookup_query or {}), lookup_data)
    # A search read by GET takes the criteria as its query; one read by POST (Copper) as its body.
    by_post = session.entity(plan.lookup_entity).method != "GET"
    response = session.call(plan.lookup_entity, {}, {} if by_post else criteria, criteria if by_post else None,
                            step=f"task {task.pk} (lookup)", resolve_variables=False)
    return _search(plan.lookup_id_path, response.data)
