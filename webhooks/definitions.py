"""What the endpoint needs of a webhook, kept per process so a request costs no look-up query.

A cached definition is never trusted on its own:
- a request it accepts is stored only if the webhook still has the same `updated_at` and is
  still enabled when the INSERT commits (committer.py checks that in the same transaction);
  when it changed, the request is judged again against the webhook as it is now;
- a request it refuses (validators, size) is judged again against a fresh read before the
  refusal is answered, so a secret changed in another process never refuses a correct sender;
- unknown and disabled identifiers are never cached: a 404 is always read from the database.
A save or delete in this process drops the cache at once (signals); another process's edit is
noticed by the checks above. Every change to a webhook goes through save() (auto_now).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import validators
from .models import Webhook

FIELDS = ("id", "identifier", "disabled", "log_requests", "validators", "secrets", "updated_at")


@dataclass(frozen=True)
class Definition:
    id: int
    identifier: str
    log_requests: bool
    config: dict[str, Any]
    secrets: dict[str, Any]
    updated_at: datetime  # the version: the commit stores a request only while the webhook still has it
    limit: int
    header_names: frozenset[str]
    query_names: frozenset[str]
    cached: bool  # True when it came from this process's cache (may be stale), False when just read


_cache: dict[str, Definition] = {}
_lock = threading.Lock()


def _definition(webhook: Webhook, *, cached: bool) -> Definition:
    config = webhook.validators or {}
    header_names, query_names = validators.credential_names(config)
    return Definition(id=webhook.id, identifier=webhook.identifier, log_requests=webhook.log_requests,
                      config=config, secrets=dict(webhook.secrets or {}), updated_at=webhook.updated_at,
                      limit=validators.max_body_bytes(config), header_names=frozenset(header_names),
                      query_names=frozenset(query_names), cached=cached)


def load(identifier: str) -> Definition | None:
    """The enabled webhook as the database has it now (and the cache updated), or None."""
    webhook = Webhook.objects.filter(identifier=identifier, disabled=False).only(*FIELDS).first()
    with _lock:
        if webhook is None:
            _cache.pop(identifier, None)
            return None
        _cache[identifier] = _definition(webhook, cached=True)
    return _definition(webhook, cached=False)


def get(identifier: str) -> Definition | None:
    """This process's copy when it has one, else `load()`."""
    found = _cache.get(identifier)
    return found if found is not None else load(identifier)


def forget() -> None:
    with _lock:
        _cache.clear()


@receiver(post_save, sender=Webhook, dispatch_uid="webhooks.definitions.saved")
@receiver(post_delete, sender=Webhook, dispatch_uid="webhooks.definitions.deleted")
def _changed(**kwargs) -> None:
    forget()
