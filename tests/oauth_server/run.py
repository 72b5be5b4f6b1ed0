"""Start the test-only OAuth provider: `python -m tests.oauth_server.run --db PATH ...`.

Creates its schema, a user who approves ("approver") and one confidential application per
`--app CLIENT_ID:SECRET:AUTH:PKCE` (AUTH: client_secret_post or client_secret_basic, the only
way the token endpoint lets that app authenticate; PKCE: required or optional), then serves
on 127.0.0.1 (threaded wsgiref) and prints `READY <port>` once it accepts connections.
"""
import argparse
import json
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--app", action="append", required=True, help="CLIENT_ID:SECRET:AUTH:PKCE")
    parser.add_argument("--redirect-uri", action="append", default=[])
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--password", default="approve-me-please")
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oauth_server.settings"
    os.environ["OAUTH_SERVER_DB"] = args.db
    os.environ["OAUTH_SERVER_TOKEN_TTL"] = str(args.token_ttl)
    apps = {}
    for spec in args.app:
        client_id, secret, auth, pkce = spec.split(":")
        apps[client_id] = {"secret": secret, "auth": auth, "pkce": pkce == "required"}
    os.environ["OAUTH_SERVER_APPS"] = json.dumps(apps)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import get_application_model

    from tests.oauth_server.views import TokenEndpointRules

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("approver", "approver@example.com", args.password)
    Application = get_application_model()
    for client_id, app in apps.items():
        Application.objects.create(
            name=f"alumio-lite dashboard ({client_id})",
            client_id=client_id,
            client_secret=app["secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(args.redirect_uri) or "http://127.0.0.1/unset",
            user=user,
            algorithm="",
        )
    app = TokenEndpointRules(get_wsgi_application())
    server = make_server("127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    print(f"READY {server.server_address[1]}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
