"""Timely: OAuth 2.0 only (Bearer); paths carry the /1.1 prefix and nearly all take {account_id}."""
from .base import Field, OAuth, Platform, RateLimit

AUTHORIZE_URL = "https://api.timelyapp.com/1.1/oauth/authorize"
TOKEN_URL = "https://api.timelyapp.com/1.1/oauth/token"

PLATFORM = Platform(
    slug="timely",
    label="Timely",
    fields=(
        Field(
            "base_uri",
            "Base URI",
            kind="url",
            default="https://api.timelyapp.com",
            help_text="Entities add /1.1/{account_id}/... themselves.",
            path_pattern=r"(/1\.1)?",
            shape_hint="https://api.timelyapp.com (entities add /1.1 themselves)",
        ),
        Field(
            "client_id",
            "Client ID",
            help_text="The Application Id of your OAuth application (Timely Settings > Devs).",
        ),
        Field(
            "client_secret",
            "Client Secret",
            secret=True,
            help_text="The Secret of your OAuth application.",
        ),
        Field("authorize_url", "Authorize URL", kind="url", default=AUTHORIZE_URL),
        Field("token_url", "Token URL", kind="url", default=TOKEN_URL),
    ),
    auth="bearer",
    publisher_methods=("POST", "PUT", "DELETE"),
    method_first=True,
    oauth=OAuth(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL, pkce=False),
    rate_limit=RateLimit(default_wait=10.0, source="Timely documents no rate limit"),
    default_pagination="timely_page",
    test_entity="GET /1.1/accounts",
)
