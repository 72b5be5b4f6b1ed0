"""A session reads the proxy environment once per host, and still applies it exactly as requests does."""
import pytest

from clients import environment
from clients.http import ClientSession
from clients.transports import PlatformSession
from tests.fakes.platforms import FakePicqer

pytestmark = pytest.mark.django_db


@pytest.fixture
def reads(monkeypatch):
    calls = []
    real = environment.get_environ_proxies

    def counting(url, no_proxy=None):
        calls.append(url)
        return real(url, no_proxy=no_proxy)

    # Ours, and requests' own (which it calls on every request unless a session reads it once).
    import requests.sessions

    monkeypatch.setattr(environment, "get_environ_proxies", counting)
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    return calls


def test_many_calls_to_one_platform_read_the_environment_once(reads):
    with FakePicqer(records=250) as fake:
        client = fake.make_client("env-once")
        with ClientSession(client) as session:
            pages = list(session.paginate("GET /customers"))
    assert sum(page.raw_count for page in pages) == 250 and len(pages) >= 3
    assert len(reads) == 1


def test_the_proxy_variables_still_apply_per_host(monkeypatch, reads):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example.com")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = PlatformSession()
    for _ in range(3):
        via_proxy = session.merge_environment_settings("https://api.pipedrive.com/v1/persons", {}, None, None, None)
    direct = session.merge_environment_settings("https://direct.example.com/x", {}, None, None, None)
    assert via_proxy["proxies"]["https"] == "http://proxy.internal:3128"
    assert via_proxy["verify"] == "/etc/ssl/company.pem"
    assert "https" not in direct["proxies"]
    assert len(reads) == 2  # one per host
    session.trust_env = False
    assert session.merge_environment_settings("https://api.pipedrive.com/", {}, None, None, None)["proxies"] == {}


def test_the_netrc_file_is_read_once_per_host_and_still_applies(monkeypatch, tmp_path):
    import requests.sessions

    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    calls = []
    real = environment.get_netrc_auth

    def counting(url, raise_errors=False):
        calls.append(url)
        return real(url, raise_errors)

    monkeypatch.setattr(environment, "get_netrc_auth", counting)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", counting)  # requests' own lookup per request
    with FakePicqer(records=250) as fake:
        session = PlatformSession()
        for offset in (0, 100, 200):
            session.get(f"{fake.base_uri}/customers", params={"offset": offset}, timeout=10).close()
        assert len(calls) == 1
        # as requests applies it: Basic credentials from the file when the request carries none
        assert all((r.header("Authorization") or "").startswith("Basic ") for r in fake.received)
        monkeypatch.setenv("NETRC", str(tmp_path / "missing"))
        plain = PlatformSession()
        plain.get(f"{fake.base_uri}/customers", timeout=10).close()
        plain.get(f"{fake.base_uri}/customers", timeout=10).close()
        assert fake.received[-1].header("Authorization") is None
        assert len(calls) == 2
