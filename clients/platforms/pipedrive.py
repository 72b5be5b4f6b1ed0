"""Pipedrive: v1 and v2 side by side; an API token header, or OAuth 2.0 as an option.

The version prefix lives in each entity's path ("/v1/users/{id}", "/v2/deals"), so one HTTP
Client with the Base URI "https://<company>.pipedrive.com/api" reaches both versions.
"""
from .base import Field, OAuth, Platform, RateLimit

OAUTH2 = "oauth2"
API_TOKEN = "api_token"

PLATFORM = Platform(
    slug="pipedrive",
    label="Pipedrive",
    fields=(
        Field(
            "base_uri",
            "Base URI",
            kind="url",
            default="https://{company}.pipedrive.com/api",
            help_text="Your company domain followed by /api, e.g. https://acme.pipedrive.com/api. "
            "Entities add /v1 or /v2 themselves.",
            # v1 also answers at /v1 without /api, but v2 only under /api: a Base URI without it
            # passes a v1 call and then 404s on every v2 entity.
            path_pattern=r"/api(/v[12])?",
            shape_hint="your company domain followed by /api, e.g. https://acme.pipedrive.com/api "
            "(entities add /v1 or /v2 themselves)",
        ),
        Field(
            "auth_type",
            "Authentication type",
            kind="choice",
            default=API_TOKEN,
            choices=((API_TOKEN, "API token"), (OAUTH2, "OAuth 2.0")),
            help_text="An API token is the simplest; OAuth 2.0 is an option for apps installed in Pipedrive.",
        ),
        Field(
            "api_token",
            "API Token",
            secret=True,
            header_bound=True,
            help_text="Found in Pipedrive under Personal preferences > API. Sent in the x-api-token header.",
            show_if={"auth_type": (API_TOKEN,)},
        ),
        Field(
            "client_id",
            "Client ID",
            header_bound=True,
            help_text="From your app in Pipedrive's Developer Hub.",
            show_if={"auth_type": (OAUTH2,)},
        ),
        Field(
            "client_secret",
            "Client Secret",
            secret=True,
            header_bound=True,
            help_text="From your app in Pipedrive's Developer Hub.",
            show_if={"auth_type": (OAUTH2,)},
        ),
    ),
    auth="pipedrive",
    # v1 updates with PUT, v2 with PATCH.
    publisher_methods=("POST", "PUT", "PATCH", "DELETE"),
    oauth=OAuth(
        authorize_url="https://oauth.pipedrive.com/oauth/authorize",
        token_url="https://oauth.pipedrive.com/oauth/token",
        pkce=False,
        # The token endpoint takes Authorization: Basic base64(client_id:client_secret).
        token_endpoint_auth="client_secret_basic",
        when={"auth_type": (OAUTH2,)},
    ),
    rate_limit=RateLimit(
        # The burst limit per token in 2-second windows; 20 is the smallest plan's (API token).
        # x-ratelimit-limit gives the account's own figure per window, and refines it.
        limit=20,
        window=2.0,
        limit_header="x-ratelimit-limit",
        source="Pipedrive's burst limit: 20 requests per 2 seconds on the smallest plan "
               "(x-ratelimit-limit gives your plan's)",
        reset_header="x-ratelimit-reset",
        reset_is_epoch=False,
        remaining_header="x-ratelimit-remaining",
        default_wait=2.0,  # the burst window is 2 seconds
        # The company account's token budget: seen in live responses, not in the docs we have.
        # (x-daily-requests-left counts POST/PUT only, so a GET's 429 says nothing about it.)
        daily_budget_headers=("x-daily-ratelimit-token-remaining",),
    ),
    default_pagination="pipedrive_start",
    test_entity="GET /v1/users/me",
    # v2 lives only under /api/v2: the cheapest v2 list (5 tokens) proves the Base URI reaches it.
    reach_entities=("GET /v2/pipelines",),
)
