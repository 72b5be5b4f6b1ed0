"""List a platform's entities: ``manage.py entities connectwise --search ticket --method GET``."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from clients.platforms.registry import PLATFORMS


class Command(BaseCommand):
    help = "List the entities (endpoints) of one platform, as a table or as JSON."

    def add_arguments(self, parser):
        parser.add_argument("platform", help=f"one of: {', '.join(PLATFORMS)}")
        parser.add_argument("--method", help="only this HTTP method (GET, POST, PUT, PATCH, DELETE)")
        parser.add_argument("--search", default="", help="words that must appear in the name, group or path")
        parser.add_argument(
            "--role", choices=("subscriber", "publisher"), help="only what an Incoming (subscriber) reads "
            "or an Outgoing (publisher) writes"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON array")
        parser.add_argument("--include-deprecated", action="store_true", help="also list deprecated entities")

    def handle(self, *args, **opts):
        platform = PLATFORMS.get(opts["platform"])
        if platform is None:
            raise CommandError(f"unknown platform {opts['platform']!r}; valid platforms: {', '.join(PLATFORMS)}")
        method = (opts["method"] or "").upper() or None
        if method and method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise CommandError(f"unknown method {opts['method']!r}; use GET, POST, PUT, PATCH or DELETE")
        found = platform.catalog.search(
            opts["search"], method=method, role=opts["role"], include_deprecated=opts["include_deprecated"]
        )
        if opts["json"]:
            rows = [
                {
                    "key": e.key,
                    "name": e.name,
                    "group": e.group,
                    "method": e.method,
                    "path": e.path,
                    "path_params": list(e.path_params),
                    "paginated": e.paginated,
                    "pagination": e.pagination,
                    "deprecated": e.deprecated,
                    "replacement": e.replacement,
                    "read_via_post": e.read_via_post,
                    "content_type": e.content_type,
                    "response_type": e.response_type,
                    "body_fields": list(e.body_fields),
                    "body_wrapper": e.body_wrapper,
                }
                for e in found
            ]
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        if not found:
            self.stdout.write("No entities match.")
            return
        name_w = min(60, max(len(e.name) for e in found))
        group_w = min(30, max(len(e.group) for e in found))
        self.stdout.write(f"{'METHOD':<7} {'NAME':<{name_w}} {'GROUP':<{group_w}} PATH")
        for e in found:
            flags = " (paginated)" if e.paginated else ""
            flags += " (deprecated)" if e.deprecated else ""
            name, group = e.name[:name_w], e.group[:group_w]
            self.stdout.write(f"{e.method:<7} {name:<{name_w}} {group:<{group_w}} {e.path}{flags}")
        self.stdout.write(f"{len(found)} entities")
