"""The kanban board in a real browser: drag a card to another stage and see it saved; move a card with the
keyboard ("Move to" and Enter, a plain form POST); a drag into a stage that needs an approval the deal
lacks shows why and the card goes back.

Skips without chromium, except in CI (see test_main_flow). A page that breaks the Content-Security-Policy
fails the test.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.test_main_flow import ARTIFACTS, PASSWORD, browser_page  # noqa: F401 - fixtures

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def board_data(transactional_db):  # type: ignore[no-untyped-def]
    from kith.sales.tests import opportunity_factories as f
    from kith.security.testing import make_user

    boss = make_user("boss", "sales_manager", password=PASSWORD)
    rep = make_user("rita", "sales_rep", manager=boss, password=PASSWORD, display_name="Rita Rep")
    customer = f.customer(owner=rep, legal_name="Acme Trading Ltd")
    alpha = f.opportunity(rep, customer=customer, name="Alpha deal", amount="1000")
    beta = f.opportunity(rep, customer=customer, name="Beta deal", amount="500", discount_percent="30")
    return rep, alpha, beta


def column(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("section.board-column", has=page.get_by_role("heading", name=name))


def test_board_drag_keyboard_and_refused_move(live_server, board_data, browser_page):  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    from kith.sales.models import Opportunity

    rep, alpha, beta = board_data
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", rep.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/sales/opportunities/board/")
    expect(page.get_by_role("heading", name="Board: Sales")).to_be_visible()
    qualification = column(page, "Qualification")
    expect(qualification.locator(".board-card")).to_have_count(2)

    # Drag Alpha to "Needs analysis": saved, the message says so, the counts follow.
    card = page.locator(".board-card", has_text="Alpha deal")
    card.drag_to(column(page, "Needs analysis").locator(".board-cards"))
    expect(page.locator("#board-status")).to_contain_text("is now in “Needs analysis”")
    expect(column(page, "Needs analysis").locator(".board-card")).to_have_count(1)
    expect(column(page, "Needs analysis").locator(".board-count")).to_have_text("1 deal")
    alpha.refresh_from_db()
    assert alpha.stage.name == "Needs analysis" and alpha.version == 2

    # Drag Beta (30 % discount, not approved) to "Proposal sent": refused, the card goes back.
    column(page, "Qualification").locator(".board-card", has_text="Beta deal").drag_to(
        column(page, "Proposal sent").locator(".board-cards")
    )
    status = page.locator("#board-status")
    expect(status).to_contain_text("needs an approval")
    expect(status).to_have_attribute("role", "alert")
    expect(column(page, "Qualification").locator(".board-card", has_text="Beta deal")).to_have_count(1)
    expect(column(page, "Proposal sent").locator(".board-card")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "sales-board-refused.png"), full_page=True)
    beta.refresh_from_db()
    assert beta.stage.name == "Qualification"

    # The keyboard: Alpha's "Move to" menu, then Enter on its button (a plain form POST).
    menu = page.locator(".board-card", has_text="Alpha deal").get_by_label("Move to")
    menu.focus()
    menu.select_option(label="Negotiation")
    page.locator(".board-card", has_text="Alpha deal").get_by_role("button", name="Move").press("Enter")
    expect(page.locator(".messages")).to_contain_text("is now in “Negotiation”")
    expect(column(page, "Negotiation").locator(".board-card", has_text="Alpha deal")).to_have_count(1)
    assert Opportunity.objects.get(pk=alpha.pk).stage.name == "Negotiation"

    # A phone: the columns scroll sideways instead of squeezing.
    page.set_viewport_size({"width": 390, "height": 800})
    overflow = page.locator(".board").evaluate("el => el.scrollWidth > el.clientWidth")
    assert overflow
    assert not problems, problems
