"""Reading the proxy and CA-bundle environment once per host, not on every call.

requests looks at the environment for every request it sends (Session.merge_environment_settings:
the *_proxy variables, no_proxy matched against the host, REQUESTS_CA_BUNDLE): 12% of a publishing
worker's time went there. The environment of a worker does not change while it runs, so a
session reads it once per (scheme, host) and reuses the answer. Proxies still apply exactly as
requests applies them. The same goes for the ~/.netrc lookup requests makes for every request
without credentials (two stat calls each): once per (scheme, host), with the same result.
"""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from requests.sessions import merge_setting
from requests.utils import get_environ_proxies, get_netrc_auth


def _no_auth(request):  # noqa: ANN001, ANN202 - requests' auth callable: "no ~/.netrc entry", remembered
    return request


class EnvironmentOnce:
    """A requests.Session mixin (put it before requests.Session)."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert) -> dict[str, Any]:  # noqa: ANN001
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        key = (parts.scheme, parts.netloc, no_proxy)
        known = self.__dict__.setdefault("_environment_by_origin", {})
        if key not in known:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            known[key] = (get_environ_proxies(url, no_proxy=no_proxy), bundle)
        env_proxies, bundle = known[key]
        # From here on what requests itself does with the environment's answer.
        if proxies is not None:
            for name, value in env_proxies.items():
                proxies.setdefault(name, value)
        if verify is True or verify is None:
            verify = bundle or verify
        return {"proxies": merge_setting(proxies, self.proxies), "stream": merge_setting(stream, self.stream),
                "verify": merge_setting(verify, self.verify), "cert": merge_setting(cert, self.cert)}

    def prepare_request(self, request):  # noqa: ANN001, ANN201 - requests' signature
        if self.trust_env and not request.auth and not self.auth:
            parts = urlsplit(request.url)
            known = self.__dict__.setdefault("_netrc_by_origin", {})
            key = (parts.scheme, parts.netloc)
            if key not in known:
                known[key] = get_netrc_auth(request.url)
            request.auth = known[key] or _no_auth
        return super().prepare_request(request)
