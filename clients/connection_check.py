""""Test connection": prove an HTTP Client works for what it will be used for.

First the Base URI's shape (a saved client may predate the check), then the platform's cheap
authenticated GET (`Platform.test_entity`), then one GET per further API the catalog reaches
(`Platform.reach_entities`: Pipedrive's v2 beside v1). A v1 call alone passed with
https://api.pipedrive.com/v1 or a company domain without /api, after which every v2 entity 404s.
"""
from __future__ import annotations

from dataclasses import dataclass

from variables import resolve as variables

from .models import HttpClient
from .platforms.registry import UnknownPlatform, get_platform
from .redaction import redact_text


@dataclass
class Result:
    ok: bool
    message: str
    status: int | None = None


def check_connection(client: HttpClient) -> Result:
    from .http import ClientError, ClientSession, ConnectionFailed, InvalidResponse, PlatformError

    try:
        platform = get_platform(client.platform)
    except UnknownPlatform as exc:
        return Result(False, str(exc))
    if not platform.test_entity:
        return Result(False, "This platform has no test call.")
    base_field = next((f for f in platform.fields if f.name == "base_uri"), None)
    settings, _, unknown = variables.client_fields(client)  # the Base URI its ${NAME}s make today
    problem = base_field.shape_error(settings.get("base_uri", "")) if base_field and not unknown else ""
    if problem:
        return Result(False, f"{problem} Edit the HTTP Client and fix its Base URI.")
    secrets = client.secret_values() + variables.secret_values()
    try:
        with ClientSession(client) as session:
            first = session.call(platform.test_entity, step="Test connection")
            answered = [f"{first.status} in {first.elapsed_ms} ms"]
            for key in platform.reach_entities:
                entity = platform.catalog.get(key)
                try:
                    reached = session.call(entity, step="Test connection")
                    answered.append(f"{reached.status} for {entity.path}")
                except ClientError as exc:
                    if exc.status == 404:
                        return Result(False, redact_text(
                            f"{platform.label} answered the first call, but {entity.method} {entity.path} got "
                            f"HTTP 404 at this Base URI, so its entities would all fail. Check the Base URI: "
                            f"type {base_field.shape_hint if base_field else 'the address the docs give'}.",
                            secrets), 404)
                    answered.append(f"{exc.status} for {entity.path} (reachable; check the permissions)")
                except (InvalidResponse, ConnectionFailed) as exc:
                    return Result(False, redact_text(f"{entity.method} {entity.path}: {exc}", secrets), exc.status)
        return Result(True, f"Connected: {platform.label} answered {', '.join(answered)}.", first.status)
    except PlatformError as exc:
        return Result(False, redact_text(str(exc), secrets), exc.status)
    except Exception as exc:  # a bug or a bad setting must still show, redacted
        return Result(False, redact_text(f"{type(exc).__name__}: {exc}", secrets))
