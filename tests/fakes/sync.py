"""Stateful fakes for keeping two systems in sync: Picqer customers that change, Pipedrive organizations.

    with PicqerCustomers(10) as source, PipedriveOrganizations() as destination:
        source.change([1, 2])          # new names, "updated" now
        source.add(2)                  # two new customers
        destination.organizations      # {id: {...}} as created and updated
        destination.creates, destination.updates

Picqer filters customers with ``updated_after`` ("YYYY-MM-DD HH:MM:SS", here UTC) and pages with
``offset``; Pipedrive creates with POST /v1/organizations (answer ``{"data": {"id": ...}}``),
updates with PUT /v1/organizations/{id} and searches with GET /v1/organizations/search?term=.
"""
from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from .platforms import FakePicqer, FakePipedrive
from .server import Received, Reply

OLD = "2024-01-01 00:00:00"  # the initial customers were last updated long ago


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


class PicqerCustomers(FakePicqer):
    def __init__(self, count: int = 0, **kwargs: Any):
        super().__init__(0, **kwargs)
        self.customers: dict[int, dict] = {}
        self.add(count, updated=OLD)

    def add(self, count: int, updated: str | None = None) -> list[int]:
        with self._lock:
            start = len(self.customers)
            ids = list(range(start + 1, start + count + 1))
            for i in ids:
                self.customers[i] = {"idcustomer": i, "name": f"Customer {i}", "customerid": f"C{i:05d}",
                                     "updated": updated or _now()}
        return ids

    def change(self, ids: list[int], suffix: str = " (renamed)") -> None:
        with self._lock:
            for i in ids:
                self.customers[i] = {**self.customers[i], "name": self.customers[i]["name"] + suffix,
                                     "updated": _now()}

    def list_page(self, request: Received) -> Reply:
        offset = int(request.query.get("offset") or 0)
        since = request.query.get("updated_after")
        with self._lock:
            rows = [c for _, c in sorted(self.customers.items()) if not since or c["updated"] > since]
        return Reply(200, rows[offset:offset + self.PAGE])

    def list_reads(self) -> list[Received]:
        return [r for r in self.received if r.method == "GET"]


class PipedriveOrganizations(FakePipedrive):
    def __init__(self, **kwargs: Any):
        super().__init__(0, **kwargs)
        self.organizations: dict[int, dict] = {}
        self.creates = 0
        self.updates = 0
        self.hold_creates = threading.Event()  # set: a create is saved, then its answer waits ...
        self.release = threading.Event()  # ... until this is set (to kill a worker in between)
        self.created_while_held = threading.Event()

    def writes(self) -> list[Received]:
        return [r for r in self.received if r.method != "GET"]

    def is_list_read(self, request: Received) -> bool:
        return request.method == "GET"

    def list_page(self, request: Received) -> Reply:
        if request.path.endswith("/organizations/search"):
            term = request.query.get("term", "")
            with self._lock:
                items = [{"result_score": 1, "item": {"id": oid, "name": org["name"]}}
                         for oid, org in sorted(self.organizations.items()) if org.get("name") == term]
            return Reply(200, {"success": True, "data": {"items": items}})
        with self._lock:
            data = [{"id": oid, **org} for oid, org in sorted(self.organizations.items())]
        return Reply(200, {"success": True, "data": data or None,
                           "additional_data": {"pagination": {"more_items_in_collection": False}}})

    def single(self, request: Received, record_id: int) -> Reply:
        org = self.organizations.get(record_id)
        if org is None:
            return Reply(404, {"success": False, "error": "Organization not found", "data": None})
        return Reply(200, {"success": True, "data": {"id": record_id, **org}})

    def destination(self, request: Received) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        last = request.path.rstrip("/").rsplit("/", 1)[-1]
        if request.method == "POST" and request.path.endswith("/v1/organizations"):
            with self._lock:
                oid = max(self.organizations, default=0) + 1
                self.organizations[oid] = dict(body)
                self.creates += 1
                self.published.append(request)
            if self.hold_creates.is_set():
                self.created_while_held.set()
                self.release.wait(120)
            return Reply(201, {"success": True, "data": {"id": oid, **body}})
        if request.method == "PUT" and last.isdigit():
            oid = int(last)
            with self._lock:
                if oid not in self.organizations:
                    return Reply(404, {"success": False, "error": "Organization not found", "data": None})
                self.organizations[oid] = {**self.organizations[oid], **body}
                self.updates += 1
                self.published.append(request)
            return Reply(200, {"success": True, "data": {"id": oid, **self.organizations[oid]}})
        return Reply(400, {"success": False, "error": f"unexpected {request.method} {request.path}"})
