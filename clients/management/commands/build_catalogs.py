"""Regenerate clients/platforms/catalogs/<platform>.json from the reference entity lists.

    manage.py build_catalogs                       # all platforms, from clients/platforms/sources/
    manage.py build_catalogs pipedrive --from DIR  # a newer reference folder (DIR/pipedrive/...)
    manage.py build_catalogs --platform pipedrive \\
        --openapi openapi.yaml=/v1 --openapi openapi-v2.yaml=/v2 --output pipedrive.json
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clients.platforms import importers, openapi
from clients.platforms.base import CATALOG_DIR
from clients.platforms.registry import PLATFORMS


class Command(BaseCommand):
    help = "Build the entity catalogs from the reference sources (or from OpenAPI 3 documents)."

    def add_arguments(self, parser):
        parser.add_argument("platforms", nargs="*", help="platform slugs (default: all)")
        parser.add_argument("--from", dest="source", help="a reference folder holding <platform>/entities.json")
        parser.add_argument("--output-dir", help="where to write catalogs (default: clients/platforms/catalogs)")
        parser.add_argument(
            "--openapi",
            action="append",
            metavar="FILE[=PREFIX]",
            help="import an OpenAPI 3 file (YAML or JSON); repeat to merge; =PREFIX is prepended to its paths",
        )
        parser.add_argument("--platform", help="with --openapi: the platform the documents describe")
        parser.add_argument("--path-prefix", default="", help="with --openapi: the prefix for files without =PREFIX")
        parser.add_argument("--output", help="with --openapi: the file to write (default: the platform catalog)")

    def handle(self, *args, **opts):
        out_dir = Path(opts["output_dir"]) if opts["output_dir"] else CATALOG_DIR
        if opts["openapi"]:
            return self._from_openapi(opts, out_dir)
        unknown = [p for p in opts["platforms"] if p not in PLATFORMS]
        if unknown:
            raise CommandError(f"unknown platform {', '.join(unknown)}; valid platforms: {', '.join(PLATFORMS)}")
        source = Path(opts["source"]) if opts["source"] else importers.SOURCES_DIR
        out_dir.mkdir(parents=True, exist_ok=True)
        for slug in opts["platforms"] or list(PLATFORMS):
            try:
                doc = importers.build_catalog(slug, source)
            except importers.SourceError as exc:
                raise CommandError(str(exc)) from None
            target = out_dir / f"{slug}.json"
            importers.write_catalog(doc, target)
            self.stdout.write(f"{slug}: {len(doc['entities'])} entities -> {target}")

    def _from_openapi(self, opts, out_dir: Path) -> None:
        slug = opts["platform"]
        if slug not in PLATFORMS:
            raise CommandError(f"--openapi needs --platform, one of: {', '.join(PLATFORMS)}")
        rows: list[dict] = []
        names = []
        for spec in opts["openapi"]:
            file, _, prefix = spec.partition("=")
            path = Path(file)
            try:
                document = openapi.load_document(path)
                rows += openapi.entities_from_openapi(
                    document,
                    path_prefix=prefix or opts["path_prefix"],
                    strategies=importers.OPENAPI_PAGINATION.get(slug),
                )
            except openapi.OpenAPIError as exc:
                raise CommandError(str(exc)) from None
            names.append(path.name)
        try:
            rows = importers.disambiguate(importers.mark_oauth_endpoints(slug, rows))
        except importers.SourceError as exc:
            raise CommandError(str(exc)) from None
        target = Path(opts["output"]) if opts["output"] else out_dir / f"{slug}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = {"platform": slug, "generated_from": {"openapi": names}, "entities": rows}
        importers.write_catalog(doc, target)
        self.stdout.write(f"{slug}: {len(rows)} entities from OpenAPI -> {target}")
