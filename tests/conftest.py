"""Fixtures shared by the whole suite: users, a signed-in browser, a real Celery worker."""
import os
import shutil
import uuid

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# test body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.support.worker", "tests.fakes.fixtures"]

# The shared rate budget (clients/rate_budget) paces calls to each platform's documented limit; the
# fakes enforce none, so the suite runs without it (worker processes inherit this) except the tests
# marked `rate_budget`, which are about it.
os.environ["HTTP_RATE_BUDGET"] = "0"


@pytest.fixture(autouse=True)
def _rate_budget_only_where_tested(request):
    from django.conf import settings

    wanted = request.node.get_closest_marker("rate_budget") is not None
    saved = getattr(settings, "HTTP_RATE_BUDGET", True)
    settings.HTTP_RATE_BUDGET = wanted
    yield
    settings.HTTP_RATE_BUDGET = saved

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def consultant(django_user_model):
    """A signed-up integration consultant (staff, so the admin opens too)."""
    return django_user_model.objects.create_superuser("consultant", "consultant@example.com", PASSWORD)


@pytest.fixture
def signed_in(client, consultant):
    """Django's test client, signed in."""
    client.force_login(consultant)
    return client


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    # Playwright's assertions wait 5 s by default, too little on a machine running other work.
    expect.set_options(timeout=30_000)
    """Debian's chromium driven by Playwright. Skipped when absent, unless REQUIRE_BROWSER=1 (CI)."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"chromium not found at {CHROMIUM}; install Debian's chromium package")
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, consultant):
    """A browser page signed in to the live dashboard as `consultant`."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    # Budgets for a loaded CI machine: a wait ends as soon as its condition holds, so a long budget
    # costs nothing when things are fast and only stops a slow machine from failing a correct page.
    context.set_default_timeout(45_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", consultant.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    yield page
    context.close()


@pytest.fixture
def unique_name():
    return f"t{uuid.uuid4().hex[:8]}"
