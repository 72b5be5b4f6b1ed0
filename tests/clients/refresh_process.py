"""One process asking for an HttpClient's access token, for the cross-process refresh test.

    python -m tests.clients.refresh_process <client pk> <go file>

Sets Django up (the database comes from DATABASE_URL), prints READY, waits until the go file
exists so that every process asks at the same moment, then prints TOKEN <access token>.
"""
import os
import sys
import time


def main() -> None:
    pk, go = int(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alumio_lite.settings")
    import django

    django.setup()
    from clients import oauth
    from clients.models import HttpClient

    client = HttpClient.objects.get(pk=pk)
    print("READY", flush=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.01)
    print("TOKEN", oauth.access_token(client), flush=True)


if __name__ == "__main__":
    main()
