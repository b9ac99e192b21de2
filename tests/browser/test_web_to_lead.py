"""Web-to-lead in a real browser: a visitor (not signed in) fills the public form, waits past the minimum
time and sends it; a sales manager finds the lead in the list, opens it and converts it into a new
customer and an opportunity.

Skips without chromium, except in CI (see test_main_flow). A page that breaks the Content-Security-Policy
fails the test.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.test_main_flow import ARTIFACTS, PASSWORD, browser_page  # noqa: F401 - fixtures

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_web_form_submission_becomes_a_lead_and_is_converted(
    live_server,
    admin_user,
    browser_page,  # noqa: F811
    settings,
):
    from playwright.sync_api import expect

    from kith.parties.models import Customer
    from kith.sales.models import Lead, Opportunity
    from kith.sales.services.web_forms import web_form_create

    settings.KITH_WEB_FORM_MIN_SECONDS = 1  # a person takes longer; the test only waits this long
    settings.KITH_RATE_LIMITS = "webform=100000/600"
    settings.KITH_DEFAULT_REGION = "CN"
    settings.KITH_DEFAULT_CURRENCY = "CNY"
    form = web_form_create(actor=None, data={"name": "Contact us", "title": "Talk to our sales team"})
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    ARTIFACTS.mkdir(exist_ok=True)

    # The visitor: the public form, no sign-in.
    page.goto(f"{live_server.url}/f/{form.key}/")
    expect(page.get_by_role("heading", name="Talk to our sales team")).to_be_visible()
    expect(page.locator("#id_website")).not_to_be_in_viewport()  # the honeypot is off-screen
    page.fill("#id_given_name", "Wei")
    page.fill("#id_family_name", "Zhang")
    page.fill("#id_company", "Harbour Freight")
    page.fill("#id_email", "Wei.Zhang@Example.com")
    page.fill("#id_phone", "138 0013 8000")
    page.wait_for_timeout(1300)  # past the minimum time
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#web-form-thanks")).to_be_visible()
    lead = Lead.objects.get()
    assert lead.email == "wei.zhang@example.com" and lead.phone == "+8613800138000"
    form.refresh_from_db()
    assert form.submissions == 1 and form.rejected == 0

    # The manager: the lead is in the list (unassigned: no rule, no form owner); convert it.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/sales/leads/?owner=unassigned")
    expect(page.locator("table")).to_contain_text("Wei Zhang (Harbour Freight)")
    page.get_by_role("link", name="Wei Zhang (Harbour Freight)").click()
    expect(page.get_by_role("heading", name="Wei Zhang (Harbour Freight)")).to_be_visible()
    page.get_by_role("link", name="Convert").click()
    expect(page.get_by_text("No existing customer matches")).to_be_visible()
    page.fill("#id_amount", "2500")
    page.screenshot(path=str(ARTIFACTS / "lead-convert.png"), full_page=True)
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_text("The lead is converted into the customer")).to_be_visible()
    customer = Customer.objects.get()
    assert customer.display_name and Opportunity.objects.get().customer == customer
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_customer == customer
    assert problems == [], problems


def test_the_form_can_be_framed_only_by_its_allowed_sites(live_server, browser_page, settings):  # noqa: F811
    """A page of another site (a loopback server on 127.0.0.1, so Chrome's private-network guard lets it
    frame Kith on localhost) frames two forms: the one that allows that site shows, the one that allows
    another site is blocked by its frame-ancestors."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import expect

    from kith.sales.services.web_forms import web_form_create

    pages: dict[str, bytes] = {}

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get("html", b"")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shop = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        allowed = web_form_create(
            actor=None, data={"name": "A", "title": "Allowed here", "allowed_origins": shop}
        )
        other = web_form_create(
            actor=None,
            data={"name": "B", "title": "Not here", "allowed_origins": "https://elsewhere.example.org"},
        )
        pages["html"] = (
            "<!doctype html><title>Shop</title>"
            f'<iframe id="a" src="{live_server.url}/f/{allowed.key}/"></iframe>'
            f'<iframe id="b" src="{live_server.url}/f/{other.key}/"></iframe>'
        ).encode()
        page = browser_page
        page.goto(f"{shop}/contact")
        expect(page.frame_locator("#a").get_by_role("heading", name="Allowed here")).to_be_visible()
        page.wait_for_timeout(500)
        expect(page.frame_locator("#b").get_by_role("heading", name="Not here")).to_have_count(0)
    finally:
        server.shutdown()
        server.server_close()
