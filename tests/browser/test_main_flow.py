"""The main flow in a real browser: sign in, live search, customer page, relationship, visit, anniversaries.

Drives Debian's chromium through Playwright against pytest-django's live server. Without chromium the
test is skipped with a message, except in CI, where it fails.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses that unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-Passw0rd!"


def _chromium() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    message = "chromium is not installed (Debian package `chromium`; `make browser-deps` installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser_page():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def crm_data(transactional_db, django_user_model):
    from kith.parties import services
    from kith.parties.services import catalogues
    from kith.parties.tests.factories import company, person
    from kith.security.testing import make_user

    user = make_user("mia", "sales_manager", password=PASSWORD, display_name="Mia Manager")
    catalogues.relationship_type_create(
        actor=None,
        data={
            "code": "employs",
            "name": "employs",
            "inverse_name": "employed by",
            "from_kind": "company",
            "to_kind": "person",
        },
    )
    acme = company(user, legal_name="Acme Trading Ltd", phones=[{"number": "+1 415 555 0100"}])
    company(user, legal_name="Globex Corporation")
    soon = timezone.localdate() + dt.timedelta(days=3)
    day = 28 if (soon.month, soon.day) == (2, 29) else soon.day
    ann = person(user, given_name="Ann", family_name="Birthday", birth_date=dt.date(1985, soon.month, day))
    services.interaction_create(actor=user, customer=acme, data={"kind": "call", "subject": "First call"})
    return {"user": user, "acme": acme, "ann": ann}


def test_main_flow(live_server, crm_data, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    # Sign in.
    page.goto(f"{live_server.url}/customers/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/customers/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    # Live search: half a company name, no Enter.
    page.locator("#id_q").press_sequentially("acme tr", delay=40)
    results = page.locator("#results")
    expect(results).to_contain_text("Acme Trading Ltd")
    expect(results).not_to_contain_text("Globex")
    expect(page).to_have_url(f"{live_server.url}/customers/?q=acme+tr")  # pushed, without empty filters

    # Open the customer.
    results.get_by_role("link", name="Acme Trading Ltd").click()
    expect(page.get_by_role("heading", name="Acme Trading Ltd")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("First call")

    # Add a relationship through the autocomplete.
    relationships = page.locator("#relationships")
    relationships.locator("summary").click()
    page.select_option("#rel_type", label="employs")
    page.locator("#other-search").press_sequentially("Ann", delay=40)
    option = page.locator("#other-options label.option", has_text="Ann Birthday")
    expect(option).to_be_visible()
    option.click()
    relationships.get_by_role("button", name="Add relationship").click()
    expect(relationships.locator(".relationship-list")).to_contain_text("employs")
    expect(relationships.locator(".relationship-list")).to_contain_text("Ann Birthday")

    # Log a visit; it appears on top of the timeline without a reload.
    page.fill("#visit_subject", "Site visit in Oakland")
    page.fill("#visit_content", "Walked the warehouse with the owner.")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#timeline-entries li").first).to_contain_text("Site visit in Oakland")
    expect(page.locator("#visit_subject")).to_have_value("")

    # Both survive a reload.
    page.reload()
    expect(page.locator("#relationships")).to_contain_text("Ann Birthday")
    expect(page.locator("#timeline-entries li").first).to_contain_text("Site visit in Oakland")
    page.screenshot(path=str(ARTIFACTS / "customer-page.png"), full_page=True)

    # The other side reads the inverse wording.
    page.locator("#relationships").get_by_role("link", name="Ann Birthday").click()
    expect(page.locator("#relationships")).to_contain_text("employed by")

    # Upcoming anniversaries: Ann's birthday is in three days.
    page.get_by_role("link", name="Anniversaries").first.click()
    expect(page.locator("main table")).to_contain_text("Ann Birthday")
    expect(page.locator("main table")).to_contain_text("Birthday")
    page.screenshot(path=str(ARTIFACTS / "anniversaries.png"), full_page=True)
    page.goto(f"{live_server.url}/customers/{crm_data['acme'].customer_number}/edit/")
    expect(page.locator("#id_phones-0-number")).to_have_value("+1 415-555-0100")
    page.screenshot(path=str(ARTIFACTS / "edit-company.png"), full_page=True)

    # The same pages on a phone-sized screen: the menu collapses, the list turns into cards.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/customers/?q=acme")
    expect(page.locator(".nav")).to_be_hidden()
    page.locator(".nav-toggle-label").click()
    expect(page.locator(".nav")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(ARTIFACTS / "customers-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/customers/new/?kind=company")
    expect(page.get_by_role("heading", name="New company")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "new-company-phone.png"), full_page=True)
