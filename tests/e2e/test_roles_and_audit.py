"""In the browser: an Admin adds an Editor and a Viewer; each sees only what the role allows; the
Editor changes an outgoing; the Audit log shows who, when and the diff."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.configurations.conftest import make_client, make_outgoing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "plum-orchard-42-sunrise"


def add_user(page: Page, username: str, role: str) -> None:
    page.goto("/settings/users/")
    page.get_by_role("link", name="Add user").click()
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.check(f"input[name=role][value={role}]")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text(f"“{username}” added as {role}")
    expect(page.locator("#users")).to_contain_text(username)


def sign_in_as(browser, live_server, username: str) -> Page:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def test_admin_adds_roles_editor_edits_audit_log_shows_it(page: Page, browser, live_server):
    outgoing = make_outgoing(make_client("copper"), "Create a New Company", name="Companies",
                             payload={"name": "Acme"})
    add_user(page, "erin-editor", "Editor")
    add_user(page, "vic-viewer", "Viewer")

    editor = sign_in_as(browser, live_server, "erin-editor")
    nav = editor.locator("nav.sidebar")
    expect(nav).to_contain_text("Outgoing")
    expect(nav).not_to_contain_text("Users")
    expect(nav).not_to_contain_text("Django admin")
    editor.goto("/settings/users/")
    expect(editor.locator("main")).to_contain_text("Your role (Editor) cannot do this")
    editor.goto(f"/connections/outgoing/{outgoing.pk}/")
    editor.fill("#id_name", "Companies to Copper")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator(".messages")).to_contain_text("Saved “Companies to Copper”")
    editor.context.close()

    viewer = sign_in_as(browser, live_server, "vic-viewer")
    expect(viewer.locator("nav.sidebar")).not_to_contain_text("Users")
    viewer.goto(f"/connections/outgoing/{outgoing.pk}/")
    history = viewer.locator("#history")
    expect(history).to_contain_text("erin-editor")
    expect(history).to_contain_text("Companies to Copper")
    viewer.goto("/settings/audit-log/")
    expect(viewer.locator("main")).to_contain_text("Your role (Viewer) cannot do this")
    viewer.context.close()

    page.goto("/settings/audit-log/")
    row = page.locator("#audit-log tbody tr", has_text="Companies to Copper").first
    expect(row).to_contain_text("erin-editor")
    expect(row).to_contain_text("Changed")
    expect(row.locator("td.old")).to_contain_text("Companies")
    expect(row.locator("td.new")).to_contain_text("Companies to Copper")
    expect(row.locator("td").first).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"))
