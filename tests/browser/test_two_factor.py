"""Two-factor sign-in in a real browser: enrol with the QR page, sign out, sign in with a TOTP code.

Also watches the console: a page that breaks the Content-Security-Policy (an inline script or style)
fails the test. Skips without chromium, except in CI (see test_main_flow).
"""

from __future__ import annotations

import os

import pytest

from tests.browser.test_main_flow import PASSWORD, browser_page  # noqa: F401 - the fixture

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def mia(transactional_db, django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(username="mia", password=PASSWORD, email="mia@example.com")


def _code(user):  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kith.accounts.tests.helpers import totp_code

    return totp_code(TOTPDevice.objects.get(user=user))


def _wait_for_next_code(user):  # type: ignore[no-untyped-def]
    """A TOTP code is accepted once; wait for the authenticator's next one (at least two seconds away)."""
    import time

    from django_otp.plugins.otp_totp.models import TOTPDevice

    step = TOTPDevice.objects.get(user=user).step
    wait = step - time.time() % step + 0.5
    if wait < 2:  # a wrong code just before throttles the device for a second: let that pass too
        wait += step
    time.sleep(wait)


def test_two_factor_sign_in(live_server, mia, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    # Enrol: the QR code is drawn on the page, the secret is shown, a code from the "app" confirms.
    page.goto(f"{live_server.url}/accounts/two-factor/")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator(".secret")).not_to_be_empty()
    page.fill("#id_token", _code(mia))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Backup codes")).to_be_visible()
    expect(page.locator(".backup-codes li")).to_have_count(10)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")

    # Sign in again: the password is not enough.
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.goto(f"{live_server.url}/customers/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.fill("#id_token", "000000" if _code(mia) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".field-error")).to_be_visible()

    _wait_for_next_code(mia)  # the enrolment code cannot be replayed, and a wrong one slows the next try
    page.fill("#id_token", _code(mia))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    # Live search (htmx) works under the policy.
    page.locator("#id_q").press_sequentially("nobody", delay=30)
    expect(page).to_have_url(f"{live_server.url}/customers/?q=nobody")
    assert violations == []
