"""ConnectWise PSA: Basic "companyId+publicKey:privateKey" plus a clientId header on every call."""
from .base import Field, Platform, RateLimit

PLATFORM = Platform(
    slug="connectwise",
    label="ConnectWise",
    fields=(
        Field(
            "base_uri",
            "Base URI",
            kind="url",
            default="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
            help_text="Your PSA site, codebase and apis/3.0, e.g. "
            "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0.",
            path_pattern=r"(/[^/]+)*/apis/3\.0",
            shape_hint="your PSA site, codebase and /apis/3.0, e.g. "
            "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0",
        ),
        Field(
            "client_id",
            "Client ID",
            # Not a secret: it names the integration, and a request log must show which one called.
            header_bound=True,
            help_text="The integration's GUID from developer.connectwise.com/ClientID, sent in the clientId header.",
        ),
        Field(
            "company_id",
            "Company ID",
            header_bound=True,
            help_text="The company name you type on the ConnectWise login screen.",
        ),
        Field(
            "public_key",
            "Public Key",
            header_bound=True,
            help_text="From an API Member's API Keys (Setup > Members > API Members).",
        ),
        Field(
            "private_key",
            "Private Key",
            secret=True,
            header_bound=True,
            help_text="Shown once when the API key is created.",
        ),
    ),
    auth="connectwise",
    publisher_methods=("POST", "PUT", "PATCH", "DELETE"),
    # No documented quota; honour Retry-After when a 429 carries one.
    # (Third-party clients assume about 60 a minute: set that on the HTTP Client if 429s come.)
    rate_limit=RateLimit(default_wait=5.0, source="ConnectWise documents no request quota"),
    default_pagination="connectwise_page",
    test_entity="GET /system/info",
)
