import sys

from django.apps import AppConfig

# JSON saved before json_policy capped nesting at MAX_DEPTH (64) may be up to ~1,000 levels deep
# (SQLite's own limit). Django decodes a JSON column in from_db_value, deep inside a request's
# stack, and Python's default limit of 1,000 frames then breaks the page that loads the row (and
# its Delete). This leaves room for such rows; new data never comes near it.
RECURSION_LIMIT = 4_000


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self) -> None:
        if sys.getrecursionlimit() < RECURSION_LIMIT:
            sys.setrecursionlimit(RECURSION_LIMIT)
