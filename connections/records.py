"""Which record a task carries: its id at the source and a readable label, for the Tasks list.

Both are read from the record as the incoming returned it (the source), falling back to the
task's data after the route's transformers (e.g. "payload.name") when the source has none.
"""
from __future__ import annotations

from typing import Any

MAX_LENGTH = 200  # Task.record_id and Task.label

ID_KEYS = ("id", "uuid", "guid")
# What the five platforms call a record's human name or number, most telling first: Picqer
# ("name", "orderid", "productcode"), Pipedrive ("name", "title", "subject"), ConnectWise
# ("name", "summary", "identifier"), Timely ("name", "note"), Copper ("name", "title").
LABEL_KEYS = (
    "name", "title", "subject", "summary", "full_name", "fullname", "display_name", "displayname",
    "company_name", "companyname", "orderid", "ordernumber", "order_number", "invoice_number", "invoicenumber",
    "number", "reference", "identifier", "productcode", "sku", "code", "email", "note",
)


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = " ".join(str(value).split())
    return text[:MAX_LENGTH] or None


def source_id(record: Any) -> tuple[str, str] | None:
    """(key, value) of the platform's id of a record, if it carries one.

    "id" on Pipedrive, ConnectWise, Timely and Copper; Picqer names it after the resource
    ("idcustomer", "idproduct"), which is the first "id..." key of its records.
    """
    if not isinstance(record, dict):
        return None
    for key in ID_KEYS:
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            return key, str(value)
    for key, value in record.items():
        if key.startswith("id") and key.isalpha() and isinstance(value, (str, int)) and not isinstance(value, bool):
            return key, str(value)
    return None


def label_of(record: Any) -> str:
    """A readable name or number of a record ("Acme BV", "O2024-0042"); "" when it has none."""
    if not isinstance(record, dict):
        return ""
    for key in LABEL_KEYS:
        text = _text(record.get(key))
        if text:
            return text
    first, last = _text(record.get("first_name") or record.get("firstname")), _text(
        record.get("last_name") or record.get("lastname"))
    if first or last:
        return " ".join(filter(None, [first, last]))[:MAX_LENGTH]
    return ""


def describe(source: Any, data: Any) -> dict[str, str]:
    """Task fields naming the record: {"record_id": ..., "label": ...}."""
    payload = data.get("payload") if isinstance(data, dict) else None
    ident = source_id(source) or source_id(payload) or source_id(data)
    label = label_of(source) or label_of(payload) or label_of(data)
    return {"record_id": ident[1][:MAX_LENGTH] if ident else "", "label": label}
