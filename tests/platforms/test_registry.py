"""The five platforms as Alumio's docs describe their HTTP Clients."""
import pytest

from clients.platforms.registry import PLATFORMS, UnknownPlatform, get_platform, platform_choices

AUTH_STRATEGIES = {"basic_key", "pipedrive", "connectwise", "bearer", "copper"}


def labels(slug: str) -> list[str]:
    return [f.label for f in get_platform(slug).fields]


def test_registry_order_and_choices():
    assert list(PLATFORMS) == ["picqer", "pipedrive", "connectwise", "timely", "copper"]
    assert platform_choices()[0] == ("picqer", "Picqer")
    assert get_platform("connectwise").label == "ConnectWise"


def test_unknown_platform_names_the_valid_ones():
    with pytest.raises(UnknownPlatform, match="picqer, pipedrive, connectwise, timely, copper"):
        get_platform("shopify")


def test_picqer_fields_auth_and_user_agent():
    picqer = get_platform("picqer")
    assert labels("picqer") == ["Base URI", "API Key", "User-Agent contact"]
    assert picqer.field("api_key").secret and picqer.field("api_key").header_bound
    contact = picqer.field("user_agent_contact")
    assert not contact.required and not contact.secret and contact.header_bound
    assert not picqer.field("base_uri").secret
    assert picqer.auth == "basic_key"
    assert picqer.default_headers["User-Agent"]
    assert picqer.headers_for({"user_agent_contact": "ops@example.com"}) == {
        "User-Agent": "alumio-lite/0.1 (ops@example.com)"
    }
    assert picqer.oauth is None
    assert "PATCH" not in picqer.publisher_methods


def test_pipedrive_api_token_or_oauth():
    pipedrive = get_platform("pipedrive")
    assert labels("pipedrive") == ["Base URI", "Authentication type", "API Token", "Client ID", "Client Secret"]
    auth_type = pipedrive.field("auth_type")
    assert [label for _, label in auth_type.choices] == ["API token", "OAuth 2.0"]
    assert auth_type.default == "api_token"
    assert pipedrive.field("api_token").show_if == {"auth_type": ("api_token",)}
    assert pipedrive.field("client_secret").show_if == {"auth_type": ("oauth2",)}
    assert pipedrive.uses_oauth({"auth_type": "oauth2"})
    assert not pipedrive.uses_oauth({"auth_type": "api_token"})
    assert pipedrive.oauth.token_url == "https://oauth.pipedrive.com/oauth/token"
    assert pipedrive.publisher_methods == ("POST", "PUT", "PATCH", "DELETE")


def test_connectwise_five_fields():
    connectwise = get_platform("connectwise")
    assert labels("connectwise") == ["Base URI", "Client ID", "Company ID", "Public Key", "Private Key"]
    assert connectwise.field("private_key").secret
    assert all(connectwise.field(n).header_bound for n in ("client_id", "company_id", "public_key", "private_key"))
    assert "PATCH" in connectwise.publisher_methods


def test_timely_is_oauth_with_prefilled_urls():
    timely = get_platform("timely")
    assert labels("timely") == ["Base URI", "Client ID", "Client Secret", "Authorize URL", "Token URL"]
    assert timely.field("authorize_url").default == "https://api.timelyapp.com/1.1/oauth/authorize"
    assert timely.field("token_url").default == "https://api.timelyapp.com/1.1/oauth/token"
    assert timely.auth == "bearer" and timely.method_first
    assert timely.uses_oauth({})


def test_copper_modes():
    copper = get_platform("copper")
    oauth_fields = [f.label for f in copper.fields if f.show_if == {"auth_type": ("oauth2",)}]
    key_fields = [f.label for f in copper.fields if f.show_if == {"auth_type": ("api_keys",)}]
    assert oauth_fields == ["Client ID", "Client Secret", "Scopes", "Authorize URL", "Access Token URL"]
    assert key_fields == ["X-PW-AccessToken", "X-PW-Application", "X-PW-UserEmail"]
    assert not copper.field("authorize_url").required and not copper.field("token_url").required
    assert copper.field("pw_access_token").secret
    assert copper.oauth.callback_method == "POST"
    assert copper.oauth.default_scopes == ("developer/v1/all",)
    assert copper.uses_oauth({"auth_type": "oauth2"}) and not copper.uses_oauth({"auth_type": "api_keys"})
    assert copper.method_first


@pytest.mark.parametrize("slug", list(PLATFORMS))
def test_platform_contract(slug):
    """What the HTTP seam and the forms rely on, for every platform alike."""
    platform = get_platform(slug)
    assert platform.auth in AUTH_STRATEGIES
    assert platform.fields[0].name == "base_uri" and platform.fields[0].label == "Base URI"
    names = [f.name for f in platform.fields]
    assert len(names) == len(set(names))
    for f in platform.fields:
        if f.show_if:
            for other, values in f.show_if.items():
                choices = {value for value, _ in platform.field(other).choices}
                assert set(values) <= choices, f"{f.name} depends on an unknown {other} value"
        if f.kind == "choice":
            assert f.default in {value for value, _ in f.choices}
    entity = platform.catalog.get(platform.test_entity)
    assert entity.method == "GET" and not entity.path_params and not entity.deprecated
    assert set(platform.publisher_methods) <= {"POST", "PUT", "PATCH", "DELETE"}
