"""Every URL, as every role, GET and POST, with and without htmx headers: allowed or refused as the role says.

Allowed or refused is decided before the view runs (accounts.middleware); to crawl POSTs without
deleting, running or sending anything, a test middleware placed after it answers 299 for any
request that got through. A second crawl renders every page a Viewer may open, for real, and looks
for the client's secret and token in each.
"""
from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from accounts.access import RULES, SEE

from .conftest import CRAWL_PK, CRAWL_SLUG, SECRET, TOKEN

REACHED = 299
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


class ReachedViewMiddleware:
    """Answers 299 instead of running the view: 'the role check let this request through'."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        return HttpResponse("reached", status=REACHED)


STOP_BEFORE_VIEWS = override_settings(
    MIDDLEWARE=[*settings.MIDDLEWARE, "tests.accounts.test_role_crawl.ReachedViewMiddleware"])


def crawl_urls(resolver=None, prefix="", namespace=""):
    """(url, view name, public?) for every URL pattern, parameters filled with the crawl objects."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from crawl_urls(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            url = concrete(prefix + str(entry.pattern))
            match = resolve(url)  # the view that really answers (e.g. /admin/login/ is our redirect)
            yield url, match.view_name, not getattr(match.func, "login_required", True)


def concrete(pattern: str) -> str:
    url = re.sub(r"<int:\w+>", str(CRAWL_PK), pattern)
    url = re.sub(r"<(?:slug|str|uuid):\w+>|<\w+>", CRAWL_SLUG, url)
    url = re.sub(r"<path:\w+>", "x", url)
    url = url.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    url = re.sub(r"\(\?P<\w+>[^)]*\)", str(CRAWL_PK), url)
    url = re.sub(r"\([^)]*\)[?*]?", "", url)
    return "/" + url.lstrip("/")


# What each role may do, in the words, written out apart from RULES.
# Viewer: "sees configurations, tasks, runs, logs; never a secret; cannot run, retry, edit or export".
VIEWER_PAGES = {
    "home", "clients:list", "clients:detail", "clients:request_logs", "clients:request_log",
    "connections:incoming_list", "connections:incoming_edit", "connections:outgoing_list", "connections:outgoing_edit",
    "connections:route_list", "connections:route_detail", "connections:route_edit",
    "connections:transformer_list", "connections:transformer_edit",
    "connections:run_list", "connections:run_detail", "connections:task_list", "connections:task_detail",
    "connections:scheduler_list", "connections:scheduler_edit",
    "webhooks:list", "webhooks:edit", "webhooks:request_list", "webhooks:request_detail",
    # fragments the configuration pages load (form fields, entity choices, parameter hints)
    "connections:incoming_fields", "connections:incoming_entity_options", "connections:incoming_params_hint",
    "connections:outgoing_fields", "connections:outgoing_entity_options", "connections:outgoing_params_hint",
}
# Whatever a Viewer may open, these never: they create, change, run, export or manage.
VIEWER_NEVER = re.compile(r"(create|new|delete|duplicate|import|export|run_test|_run$|_start|cancel|bulk|toggle"
                          r"|grant|preview|steps|load_input|clients:edit|clients:test|accounts:|admin:)")


def _rule_reads(name: str) -> bool:
    rule = RULES.get(name)
    return isinstance(rule, tuple) and rule[0] == SEE or rule == SEE


# Editor: "cannot manage users, HTTP Client secrets or environment variables"; hosts and secrets are Admins'.
# Editors do edit a client, except its secrets and addresses (the edit view locks those: test_editor_clients.py).
EDITOR_NEVER = ("clients:create", "clients:duplicate", "clients:delete", "clients:grant",
                "accounts:", "audit:", "variables:", "admin:")


# Every signed-in user, whatever the role: signing out and their own two-factor sign-in.
OWN_ACCOUNT = ("logout", "account:two_factor")


def expected(role: str, name: str, method: str, public: bool) -> bool:
    """May `role` get `method` through to the view named `name`?"""
    if public or role == "Admin" or name in OWN_ACCOUNT:
        return True
    if role == "Viewer":
        if method == "post" or VIEWER_NEVER.search(name):
            return False
        # Pages others add later with a READ rule open too; the list must always open.
        return name in VIEWER_PAGES or _rule_reads(name)
    if role == "Editor":
        if name.startswith(EDITOR_NEVER):
            return False
        return name in RULES  # fails closed: nothing without a rule
    raise AssertionError(role)


@pytest.mark.parametrize("role", ["Viewer", "Editor", "Admin"])
def test_every_url_as_every_role(client, world, viewer, editor, admin_user, role):
    user = {"Viewer": viewer, "Editor": editor, "Admin": admin_user}[role]
    client.force_login(user)
    checked = 0
    with STOP_BEFORE_VIEWS:
        for url, name, public in crawl_urls():
            for method in ("get", "post"):
                for headers in ({}, HTMX):
                    response = getattr(client, method)(url, **headers)
                    allowed = expected(role, name, method, public)
                    where = f"{role} {method.upper()} {url} ({name}){' htmx' if headers else ''}"
                    if allowed:
                        assert response.status_code != 403, where
                    else:
                        assert response.status_code == 403, where
                        assert "cannot do this" in response.content.decode(), where
                    checked += 1
    assert checked > 200


def test_viewer_pages_show_no_secret(client, world, viewer):
    """Every page a Viewer may open, rendered for real: the client's secret and token are nowhere."""
    client.force_login(viewer)
    rendered = 0
    for url, name, public in crawl_urls():
        if public or name == "logout":
            continue
        for headers in ({}, HTMX):
            response = client.get(url, **headers)
            body = response.content.decode(errors="replace")
            assert SECRET not in body and TOKEN not in body, url
            if response.status_code == 200:
                rendered += 1
    assert rendered > 20


@pytest.mark.parametrize("role", ["Viewer", "Editor"])
def test_no_admin_for_non_admins(client, world, viewer, editor, role):
    client.force_login({"Viewer": viewer, "Editor": editor}[role])
    for url in ("/admin/", f"/admin/clients/httpclient/{CRAWL_PK}/change/", "/admin/auth/user/"):
        assert client.get(url).status_code == 403, url


def test_an_unmapped_url_is_refused_to_everyone_but_admins(client, viewer, editor, admin_user):
    """A view another change adds without a rule is closed, not open."""
    with override_settings(ROOT_URLCONF="tests.accounts.unmapped_urls"):
        for user in (viewer, editor):
            client.force_login(user)
            assert client.get("/brand-new/").status_code == 403
            assert client.post("/brand-new/").status_code == 403
        client.force_login(admin_user)
        assert client.get("/brand-new/").status_code == 200


def test_the_check_names_unmapped_urls():
    from accounts.checks import every_url_has_a_rule

    with override_settings(ROOT_URLCONF="tests.accounts.unmapped_urls"):
        ids = {(w.id, w.msg.split("“")[1].split("”")[0]) for w in every_url_has_a_rule()}
    assert ("accounts.W001", "brand_new") in ids


def test_a_user_without_a_role_opens_nothing(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get("/").status_code == 403
    assert client.get("/clients/").status_code == 403


@pytest.mark.parametrize("role, shown", [("Viewer", False), ("Admin", True)])
def test_buttons_follow_the_role(client, world, viewer, admin_user, role, shown):
    """Display only (the middleware enforces): a Viewer is not offered what it may not do."""
    client.force_login({"Viewer": viewer, "Admin": admin_user}[role])
    pages = {
        "/connections/routes/": ["Run now", "New route"],
        f"/clients/{CRAWL_SLUG}/": ["Test connection", "Duplicate", ">Edit<"],
        "/connections/incoming/": ["Export all", "New incoming configuration"],
        "/connections/transformers/": ["New transformer"],
        "/clients/": ["Create HTTP Client"],
    }
    for url, words in pages.items():
        body = client.get(url).content.decode()
        for word in words:
            assert (word in body) is shown, (role, url, word)
