"""Copper: API key headers or OAuth 2.0 (whose callback is a POST); lists are POST /<plural>/search."""
from .base import Field, OAuth, Platform, RateLimit

OAUTH2 = "oauth2"
API_KEYS = "api_keys"
AUTHORIZE_URL = "https://app.copper.com/oauth/authorize"
TOKEN_URL = "https://app.copper.com/oauth/token"
SCOPE = "developer/v1/all"  # the only scope Copper accepts

_OAUTH_ONLY = {"auth_type": (OAUTH2,)}
_KEYS_ONLY = {"auth_type": (API_KEYS,)}

PLATFORM = Platform(
    slug="copper",
    label="Copper",
    fields=(
        Field(
            "base_uri",
            "Base URI",
            kind="url",
            default="https://api.copper.com/developer_api/v1",
            path_pattern=r"/developer_api/v1",
            shape_hint="https://api.copper.com/developer_api/v1",
        ),
        Field(
            "auth_type",
            "Authentication type",
            kind="choice",
            default=API_KEYS,
            choices=((OAUTH2, "OAuth 2.0"), (API_KEYS, "API Keys")),
        ),
        Field("client_id", "Client ID", show_if=_OAUTH_ONLY,
              help_text="Copper issues it when you register your app with them."),
        Field("client_secret", "Client Secret", secret=True, show_if=_OAUTH_ONLY),
        Field("scopes", "Scopes", default=SCOPE, show_if=_OAUTH_ONLY,
              help_text="Copper only accepts developer/v1/all."),
        Field("authorize_url", "Authorize URL", kind="url", required=False, default=AUTHORIZE_URL,
              show_if=_OAUTH_ONLY),
        Field("token_url", "Access Token URL", kind="url", required=False, default=TOKEN_URL,
              show_if=_OAUTH_ONLY),
        Field("pw_access_token", "X-PW-AccessToken", secret=True, header_bound=True, show_if=_KEYS_ONLY,
              help_text="An API key from Copper: Settings > Integrations > API Keys."),
        Field("pw_application", "X-PW-Application", default="developer_api", header_bound=True,
              show_if=_KEYS_ONLY, help_text="Always developer_api."),
        Field("pw_user_email", "X-PW-UserEmail", header_bound=True, show_if=_KEYS_ONLY,
              help_text="The e-mail address of the user who owns the API key."),
    ),
    auth="copper",
    publisher_methods=("POST", "PUT", "DELETE"),
    method_first=True,
    oauth=OAuth(
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        scopes_field="scopes",
        default_scopes=(SCOPE,),
        pkce=False,
        callback_method="POST",
        when=_OAUTH_ONLY,
    ),
    # 180 requests per minute, rolling; no documented headers, so wait a third of a window.
    rate_limit=RateLimit(limit=180, window=60.0, default_wait=20.0,
                         source="Copper's documented limit: 180 requests a minute, rolling"),
    default_pagination="copper_search",
    test_entity="GET /account",
    default_headers={"Content-Type": "application/json"},
)
