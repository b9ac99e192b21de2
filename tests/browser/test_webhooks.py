"""Webhooks in a real browser: an administrator opens Settings → Webhooks, is told what is wrong with a bad
URL, creates a webhook to a receiver on loopback, copies its secret (shown once), sends a test event and
sees it delivered.

Skips without chromium, except in CI (see test_main_flow). A page that breaks the Content-Security-Policy
fails the test.
"""

from __future__ import annotations

import os

import pytest

from kith.webhooks.tests.conftest import receiver  # noqa: F401 - the loopback receiver fixture
from tests.browser.test_main_flow import ARTIFACTS, PASSWORD, browser_page  # noqa: F401 - fixtures

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_create_a_webhook_and_send_a_test_event(
    live_server,
    admin_user,
    receiver,  # noqa: F811
    browser_page,  # noqa: F811
    settings,
):
    from playwright.sync_api import expect

    from kith.webhooks import events
    from kith.webhooks.models import Webhook

    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on loopback
    events.forget()
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Settings → Webhooks → New webhook
    page.get_by_role("link", name="Settings", exact=True).click()
    page.locator("nav.subnav").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.locator("table")).to_contain_text("No webhooks yet.")
    page.get_by_role("link", name="New webhook").click()

    # A bad URL: the page says what is wrong, on the field, and nothing is created.
    page.fill("#id_name", "ERP")
    page.fill("#id_url", "ftp://erp.example.com/hooks")
    page.get_by_label("Every event (also those added later)").check()
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("heading", name="New webhook")).to_be_visible()
    url_field = page.locator(".field.has-error", has=page.locator("#id_url"))
    expect(url_field.locator(".field-error")).to_have_text("Use an http:// or https:// address.")
    expect(page.locator("#id_url")).to_have_value("ftp://erp.example.com/hooks")  # kept to correct it
    assert not Webhook.objects.exists()

    # The receiver's URL: created, and the signing secret is shown this once.
    expect(page.get_by_label("Every event (also those added later)")).to_be_checked()
    page.fill("#id_url", receiver.url)
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("heading", name="Webhook created")).to_be_visible()
    webhook = Webhook.objects.get()
    expect(page.locator(".api-key")).to_have_text(webhook.secret)
    page.screenshot(path=str(ARTIFACTS / "webhook-secret.png"), full_page=True)

    # The webhook's page: send a test event, the delivery is listed as delivered.
    page.get_by_role("link", name="Go to the webhook").click()
    expect(page.get_by_role("heading", name="ERP")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(webhook.secret)
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("The receiver accepted the test event")).to_be_visible()
    row = page.locator("#webhook-deliveries tbody tr").first
    expect(row).to_contain_text("ping")
    expect(row).to_contain_text("delivered")
    expect(row).to_contain_text("200")
    page.screenshot(path=str(ARTIFACTS / "webhook-delivered.png"), full_page=True)

    (request,) = receiver.requests
    assert request.headers["kith-event"] == "ping"
    assert problems == [], problems
