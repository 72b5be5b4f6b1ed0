"""Export and import of Incoming and Outgoing configurations as one JSON document.

Secrets never travel: configurations hold none, and HTTP Clients and Transformers are
referenced by identifier only (they must exist on the importing side). An import checks
every configuration with the same form the pages use, then either reports what would change
(dry run) or applies it all in one transaction: one bad entry writes nothing.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import QueryDict

from clients.models import HttpClient
from storages import portable as storages_portable
from storages.models import Storage
from sync import portable as sync_portable
from variables import resolve as variables
from webhooks import portable as webhooks_portable
from webhooks.parsers import WEBHOOK

from . import json_policy
from .forms import IncomingForm, OutgoingForm
from .models import Incoming, Outgoing, Transformer

FORMAT = "alumio-lite/configurations"
VERSION = 1


def _transformer_ids(transformers: Iterable[Transformer]) -> list[str]:
    return [t.identifier for t in transformers]


def export_incoming(incoming: Incoming) -> dict:
    data = {
        "identifier": incoming.identifier,
        "name": incoming.name,
        "description": incoming.description,
        "disabled": incoming.disabled,
        "platform": incoming.platform,
        "method": incoming.method,
        "entity": incoming.entity,
        "client": incoming.client.identifier if incoming.client else "",  # none for a Webhook subscriber
        "request_parameters": incoming.request_parameters or {},
        "pagination": incoming.pagination,
        "input_transformers": _transformer_ids(incoming.transformers_in_order("input")),
    }
    _with(data, "parser", incoming.parser or None)  # a Webhook subscriber's body parser
    return _with(data, "incremental", sync_portable.export_watermark(incoming))


def _with(data: dict, key: str, value: Any) -> dict:
    """Sync settings travel only when the configuration has them, so older exports read the same."""
    if value is not None:
        data[key] = value
    return data


def export_outgoing(outgoing: Outgoing) -> dict:
    data = {
        "identifier": outgoing.identifier,
        "name": outgoing.name,
        "description": outgoing.description,
        "disabled": outgoing.disabled,
        "platform": outgoing.platform,
        "method": outgoing.method,
        "entity": outgoing.entity,
        "client": outgoing.client.identifier,
        "query": outgoing.query or {},
        "payload": outgoing.payload or {},
        "transformers": _transformer_ids(outgoing.transformers_in_order()),
    }
    return _with(data, "create_or_update", sync_portable.export_plan(outgoing))


def export_document(incoming: Iterable[Incoming] = (), outgoing: Iterable[Outgoing] = (),
                    storages: Iterable[Storage] = (), entries: bool = False, webhooks: Iterable = ()) -> dict:
    """The export file's content for these configurations (and storages: the ones named, and those used)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "incoming": [export_incoming(i) for i in incoming],
        "outgoing": [export_outgoing(o) for o in outgoing],
    }
    chosen = {s.identifier: (s, entries) for s in storages}  # entries only of storages asked for by name
    used = {o["create_or_update"]["storage"] for o in document["outgoing"] if o.get("create_or_update")}
    for storage in Storage.objects.filter(identifier__in=used - set(chosen)):
        chosen[storage.identifier] = (storage, False)
    if chosen:
        document["storages"] = [storages_portable.export_storage(s, entries=with_entries)
                                for _, (s, with_entries) in sorted(chosen.items())]
    if webhooks:
        document["webhooks"] = [webhooks_portable.export_webhook(w) for w in webhooks]
    return document


def dumps(document: dict) -> str:
    return json_policy.for_display(document) + "\n"


# --- import ---------------------------------------------------------------------------------


@dataclass
class Change:
    """What importing one configuration does: create, update, unchanged, or error."""

    kind: str  # "incoming" or "outgoing"
    identifier: str
    action: str
    errors: list[str] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    changes: list[Change]
    applied: bool
    problems: list[str] = field(default_factory=list)  # errors about the file as a whole
    # ${NAME}s the file uses that this installation has not defined (Settings -> Environment variables)
    missing_variables: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not any(c.errors for c in self.changes)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def summary(self) -> str:
        parts = [f"{self.count(a)} {a}" for a in ("create", "update", "unchanged", "error")]
        verb = "Imported" if self.applied else "Would import" if self.ok else "Nothing imported"
        return f"{verb}: " + ", ".join(parts)


PROGRESS_EVERY = 100


class ImportFileError(ValueError):
    """The file is not an export of this application."""


def loads(text: str | bytes) -> dict:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError("the file is not UTF-8 text") from None
    try:
        document = json_policy.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except json_policy.Unstorable as exc:
        raise ImportFileError(f"the file holds {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportFileError(f"not a configurations export (expected \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise ImportFileError(f"unsupported version {document.get('version')!r}; this application reads {VERSION}")
    for key in ("incoming", "outgoing", "storages", "webhooks"):
        if not isinstance(document.get(key, []), list):
            raise ImportFileError(f"“{key}” must be a list")
    return document


_SPECS = {
    "incoming": (Incoming, IncomingForm, "input_transformers", ("request_parameters",), ("pagination",)),
    "outgoing": (Outgoing, OutgoingForm, "transformers", ("query", "payload"), ()),
}


def _form_data(entry: dict, kind: str, client: HttpClient | None, transformers: list[Transformer]) -> QueryDict:
    _, _, transformer_field, json_fields, flags = _SPECS[kind]
    data = QueryDict(mutable=True)
    for name in ("name", "identifier", "description", "platform", "method", "entity"):
        data[name] = str(entry.get(name) or "")
    if entry.get("disabled"):
        data["disabled"] = "on"
    for flag in flags:
        if entry.get(flag):
            data[flag] = "on"
    for name in json_fields:
        data[name] = json.dumps(entry.get(name) or {})
    data["client"] = str(client.pk) if client is not None else ""
    parser = entry.get("parser") if isinstance(entry.get("parser"), dict) else {}
    for key, value in parser.items():
        data[f"parser_{key}"] = str(value)
    data.setlist(transformer_field, [str(t.pk) for t in transformers])
    return data


def _snapshot(obj: Any, kind: str) -> dict:
    exported = export_incoming(obj) if kind == "incoming" else export_outgoing(obj)
    return exported


def _plan_one(kind: str, entry: Any, storages_in_file: set[str] = frozenset()) -> tuple[Change, Any]:
    model, form_class, _, _, _ = _SPECS[kind]
    if not isinstance(entry, dict):
        return Change(kind, "?", "error", ["each configuration must be an object"]), None
    identifier = str(entry.get("identifier") or "").strip()
    change = Change(kind, identifier or "?", "error")
    if not identifier:
        change.errors.append("“identifier” is missing")
        return change, None
    client_id = str(entry.get("client") or "")
    client = HttpClient.objects.filter(identifier=client_id).first()
    if client is None and not (kind == "incoming" and entry.get("platform") == WEBHOOK and not client_id):
        change.errors.append(f"unknown HTTP Client “{client_id}”: create it first (secrets are never exported)")
    names = entry.get("input_transformers" if kind == "incoming" else "transformers") or []
    transformers = []
    for name in names if isinstance(names, list) else []:
        found = Transformer.objects.filter(identifier=str(name)).first()
        if found is None:
            change.errors.append(f"unknown Transformer “{name}”")
        else:
            transformers.append(found)
    change.errors += sync_portable.check(kind, entry, storages_in_file)
    if change.errors:
        return change, None
    existing = model.objects.filter(identifier=identifier).first()
    # Before the form: validating it writes the new values onto `existing`.
    before = _snapshot(existing, kind) if existing is not None else None
    form = form_class(data=_form_data(entry, kind, client, transformers), instance=existing)
    form.check_grant = False
    form.check_variables = False  # reported in ImportReport.missing_variables instead
    if not form.is_valid():
        change.errors = [
            f"{name}: {m}" if name != "__all__" else m for name, messages in form.errors.items() for m in messages
        ]
        return change, None
    if existing is None:
        change.action = "create"
        return change, form
    after = {**before, **{k: entry.get(k, before[k]) for k in before}}
    after["client"] = client.identifier if client is not None else ""
    after["method"] = before["method"] if not entry.get("method") else after["method"]
    changed = [k for k in before if before[k] != after[k]]
    changed += [k for k in ("incremental", "create_or_update") if entry.get(k) is not None and k not in before]
    change.action = "update" if changed else "unchanged"
    change.changed_fields = changed
    return change, form


def entry_count(document: dict) -> int:
    """How many configurations (and storages, webhooks) the file holds."""
    return sum(len(document.get(key) or []) for key in ("storages", "incoming", "outgoing", "webhooks"))


def import_document(document: dict, dry_run: bool = False,
                    progress: Callable[[int], None] | None = None) -> ImportReport:
    """Check every configuration in `document`; unless `dry_run`, apply all of them or none.

    progress(n): called every PROGRESS_EVERY configurations checked (a big import runs on a worker).
    """
    storage_plans = [storages_portable.plan(entry) for entry in document.get("storages", [])]
    in_file = {identifier for identifier, action, *_ in storage_plans if action != "error"}
    plans = []
    for kind in ("incoming", "outgoing"):
        for entry in document.get(kind, []):
            plans.append((kind, *_plan_one(kind, entry, in_file), entry))
            if progress and len(plans) % PROGRESS_EVERY == 0:
                progress(len(storage_plans) + len(plans))
    changes = [Change("storage", identifier, action, errors, changed)
               for identifier, action, errors, changed, _ in storage_plans]
    changes += [change for _, change, _, _ in plans]
    incoming_in_file = {c.identifier for kind, c, _, _ in plans if kind == "incoming" and c.action != "error"}
    webhook_plans = [webhooks_portable.plan(entry, incoming_in_file) for entry in document.get("webhooks", [])]
    changes += [Change("webhook", identifier, action, errors, changed)
                for identifier, action, errors, changed, _ in webhook_plans]
    seen: set[tuple[str, str]] = set()
    for change in changes:
        if (change.kind, change.identifier) in seen:
            change.errors.append("this identifier appears twice in the file")
            change.action = "error"
        seen.add((change.kind, change.identifier))
    report = ImportReport(changes=changes, applied=False,
                          missing_variables=sorted(variables.missing(document)))
    if dry_run or not report.ok:
        return report
    with transaction.atomic():
        for _, action, _, _, apply in storage_plans:
            if action in ("create", "update"):
                apply()
        for kind, change, form, entry in plans:
            if change.action in ("create", "update"):
                sync_portable.apply(kind, form.save(), entry)
        for _, action, _, _, apply in webhook_plans:  # after the incomings they hand their data to
            if action in ("create", "update"):
                apply()
    report.applied = True
    return report
