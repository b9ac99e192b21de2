"""The acceptance walk of the sales issue, tried as new users would in a real browser.

A visitor fills the public web-to-lead form; the sales representative finds the lead, converts it into a
customer and a deal, drags the deal on the board, makes a quote with a 20 % discount (above the approval
limit), is refused when sending it and asks the manager for an approval; the manager (a second browser
context) approves it; the representative sends the quote as a PDF by email to a real SMTP server on
loopback, marks it accepted, confirms the order, ships part of it, invoices it and records a part
payment; the customer's consumption statistics show the shipped quantity and the manager's forecast shows
the won deal in the team's numbers.

Skips without chromium, except in CI (see test_main_flow). A page that breaks the Content-Security-Policy
fails the test.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import re
from decimal import Decimal
from email.message import Message

import pytest

from tests.browser.test_main_flow import CHROMIUM_ARGS, PASSWORD, _chromium

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    """One chromium; each person gets their own context (cookies) from it."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def walk_data(transactional_db, settings):  # type: ignore[no-untyped-def]

    from kith.sales.services.products import product_create
    from kith.sales.services.web_forms import web_form_create
    from kith.security.models import Team
    from kith.security.testing import make_user

    settings.KITH_WEB_FORM_MIN_SECONDS = 1  # a person takes longer; the test only waits this long
    settings.KITH_RATE_LIMITS = "webform=100000/600,login=100000/600"
    settings.KITH_DEFAULT_CURRENCY = "EUR"
    settings.KITH_COMPANY_NAME = "Kith Telecom"
    team = Team.objects.create(name="Field sales")
    boss = make_user("mona", "sales_manager", password=PASSWORD, display_name="Mona Manager", team=team)
    rep = make_user("ravi", "sales_rep", manager=boss, password=PASSWORD, display_name="Ravi Rep", team=team)
    product = product_create(
        actor=None,
        data={
            "sku": "RTR-X1",
            "name": "Edge router X1",
            "model": "X1-2026",
            "unit": "pcs",
            "category": "Hardware",
            "currency": "EUR",
            "list_price": "100.00",
            "tax_rate": "10",
        },
    )
    form = web_form_create(
        actor=None, data={"name": "Contact us", "title": "Talk to our sales team", "owner": rep.pk}
    )
    return {"boss": boss, "rep": rep, "product": product, "form": form}


def _context(browser, viewport=None):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _sign_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(input[type=password]) button[type=submit]").click()
    expect(page).not_to_have_url(f"{url}/accounts/login/")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=f"/tmp/walk-{name}.png", full_page=True)


def _column(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("section.board-column", has=page.get_by_role("heading", name=name))


def test_the_sales_walk(live_server, walk_data, browser, smtp):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from kith.parties.models import Customer
    from kith.sales.models import (
        Approval,
        ConsumptionLine,
        Invoice,
        Lead,
        Opportunity,
        Order,
        Payment,
        Quote,
    )

    url = live_server.url
    rep, boss, form = walk_data["rep"], walk_data["boss"], walk_data["form"]
    problems: list[str] = []

    def watch(page):  # type: ignore[no-untyped-def]
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)

    # 1. The visitor: the public form, no sign-in.
    visitor_context, visitor = _context(browser)
    watch(visitor)
    visitor.goto(f"{url}/f/{form.key}/")
    expect(visitor.get_by_role("heading", name="Talk to our sales team")).to_be_visible()
    visitor.fill("#id_given_name", "Lena")
    visitor.fill("#id_family_name", "Berg")
    visitor.fill("#id_company", "Nordlicht Logistik")
    visitor.fill("#id_email", "Lena.Berg@Example.com")
    visitor.wait_for_timeout(1300)  # past the minimum time
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator("#web-form-thanks")).to_be_visible()
    visitor_context.close()
    lead = Lead.objects.get()
    assert lead.owner == rep and lead.email == "lena.berg@example.com"

    # 2. The representative finds the lead and converts it into a customer and a deal.
    rep_context, page = _context(browser)
    watch(page)
    _sign_in(page, url, rep.username)
    page.goto(f"{url}/sales/leads/")
    expect(page.locator("table")).to_contain_text("Lena Berg (Nordlicht Logistik)")
    page.get_by_role("link", name="Lena Berg (Nordlicht Logistik)").click()
    expect(page.get_by_role("heading", name="Lena Berg (Nordlicht Logistik)")).to_be_visible()
    page.get_by_role("link", name="Convert").click()
    expect(page.get_by_text("No existing customer matches")).to_be_visible()
    page.fill("#id_opportunity_name", "Nordlicht routers")
    page.fill("#id_amount", "500.00")
    page.select_option("#id_currency", "EUR")
    page.fill("#id_expected_close_date", dt.date.today().isoformat())
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_text("The lead is converted into the customer")).to_be_visible()
    customer = Customer.objects.get()
    deal = Opportunity.objects.get()
    assert deal.customer == customer and deal.owner == rep and deal.stage.name == "Qualification"

    # 3. The board: drag the deal to the next stage; saved.
    page.goto(f"{url}/sales/opportunities/board/")
    expect(page.get_by_role("heading", name="Board: Sales")).to_be_visible()
    card = page.locator(".board-card", has_text="Nordlicht routers")
    expect(card).to_have_count(1)
    card.drag_to(_column(page, "Needs analysis").locator(".board-cards"))
    expect(page.locator("#board-status")).to_contain_text("is now in “Needs analysis”")
    page.reload()
    expect(
        _column(page, "Needs analysis").locator(".board-card", has_text="Nordlicht routers")
    ).to_have_count(1)
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "Needs analysis"
    _shot(page, "board")
    page.set_viewport_size(PHONE)
    _shot(page, "board-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 4. A quote of the deal: five routers at 20 % off (the limit is 10 %).
    page.goto(f"{url}/sales/quotes/new/?opportunity={deal.pk}")
    expect(page.get_by_text("For the opportunity “Nordlicht routers”")).to_be_visible()
    page.get_by_role("button", name="Create quote").click()
    expect(page.get_by_text("is started: add its lines")).to_be_visible()
    quote = Quote.objects.get()
    lines = page.locator("#quote-lines")
    lines.get_by_text("Add a line").click()
    lines.locator("#product-search").press_sequentially("RTR", delay=40)
    expect(lines.locator("#product-options label.option", has_text="Edge router X1")).to_be_visible()
    lines.locator("#product-options label.option", has_text="Edge router X1").click()
    lines.get_by_label("Quantity", exact=True).last.fill("5")
    lines.get_by_label("Discount (%)").last.fill("20")
    lines.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#quote-total")).to_contain_text("440.00 EUR")  # 5 × 100 − 20 % + 10 % tax
    expect(page.locator("#quote-lines")).to_contain_text("needs an approval of its opportunity")
    expect(page.locator("#quote-lines")).to_contain_text("the discount of 20% is above the 10% limit")
    _shot(page, "quote")
    page.set_viewport_size(PHONE)
    _shot(page, "quote-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Sending is refused with the reasons.
    page.get_by_role("link", name="Send…").click()
    expect(page.locator("#id_to")).to_have_value("lena.berg@example.com")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".alert, .form-errors, [role=alert]").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("needs an approval of its opportunity before it is sent")
    assert not smtp.messages and Quote.objects.get(pk=quote.pk).status == "draft"

    # The deal's page asks for an approval of the deal with its quote (the quote's 20 % discount).
    page.get_by_role("link", name="Request an approval on the opportunity").first.click()
    expect(page.get_by_role("heading", name="Nordlicht routers")).to_be_visible()
    approval_card = page.locator("section", has=page.get_by_role("heading", name="Approval"))
    expect(approval_card).to_contain_text("the discount of 20% is above the 10% limit")
    approval_card.get_by_label("Comment for the approver").fill(
        "Volume deal, they compare with a competitor."
    )
    approval_card.get_by_role("button", name="Request approval").click()
    expect(page.get_by_text("The approval is requested")).to_be_visible()
    expect(approval_card).to_contain_text("waiting for Mona Manager")
    approval = Approval.objects.get()
    assert approval.status == "pending" and approval.approver == boss

    # 5. The manager (another browser context) sees it waiting and approves it.
    boss_context, manager = _context(browser)
    watch(manager)
    _sign_in(manager, url, boss.username)
    manager.goto(f"{url}/")
    panel = manager.locator(".pending-deal-approvals")
    expect(panel).to_contain_text("Nordlicht routers")
    expect(panel).to_contain_text("asked by Ravi Rep")
    panel.get_by_role("link", name="Decide").click()
    item = manager.locator("article", has_text="Nordlicht routers")
    expect(item).to_contain_text("Volume deal, they compare with a competitor.")
    item.get_by_label("Approve").check()
    item.get_by_label("Comment").fill("Approved for this volume.")
    item.get_by_role("button", name="Save the decision").click()
    expect(manager.locator("main")).to_contain_text("Nothing waits for you.")
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decided_by == boss

    # 6. The representative sends the quote: a PDF by email to the SMTP server on loopback.
    page.goto(f"{url}/sales/quotes/{quote.pk}/")
    expect(page.locator("#quote-lines")).to_contain_text("a granted one covers it")
    page.get_by_role("link", name="Send…").click()
    page.fill("#id_message", "Dear Lena, here is our offer.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("The quote is sent to lena.berg@example.com")).to_be_visible()
    quote.refresh_from_db()

    def to_customer() -> list[tuple[list[str], Message]]:
        return [m for m in smtp.messages if "lena.berg@example.com" in m[0]]

    for _ in range(50):  # the mail leaves after the commit
        if to_customer():
            break
        page.wait_for_timeout(100)
    [(recipients, message)] = to_customer()
    assert recipients == ["lena.berg@example.com"]
    # the other mails: the approver was told of the request, the representative of the decision
    assert {r for rs, _m in smtp.messages for r in rs} >= {boss.email}
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert quote.number in subject
    pdfs = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    pdf = pdfs[0].get_payload(decode=True)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF") and quote.number.encode() in pdf

    # 7. Accepted by the customer (a won reason), the order, a partial shipment, an invoice, a payment.
    expect(page.get_by_role("button", name="Accepted by the customer")).to_be_visible()
    reason = page.locator("form[action$='/accept/'] select")
    if reason.count():
        reason.select_option(label="Best price")
    page.get_by_role("button", name="Accepted by the customer").click()
    expect(page.get_by_text("The quote is accepted.")).to_be_visible()
    page.get_by_role("button", name="The order").click()
    expect(page.get_by_role("heading", name="Order")).to_contain_text(re.compile("draft", re.I))
    order = Order.objects.get()
    assert order.quote_id == quote.pk
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Order")).to_contain_text(re.compile("confirmed", re.I))
    page.get_by_role("link", name="Ship…").click()
    page.get_by_label("Edge router X1 — 5 left").fill("2")
    page.fill("#id_carrier", "DHL")
    page.get_by_role("button", name="Record shipment").click()
    expect(page.get_by_text("The shipment is recorded.")).to_be_visible()
    expect(page.get_by_role("heading", name="Order")).to_contain_text(re.compile("partially shipped", re.I))
    expect(page.locator("main")).to_contain_text("Edge router X1 × 2")
    page.get_by_role("button", name="Invoice").click()
    expect(page.get_by_text("is issued")).to_be_visible()
    invoice = Invoice.objects.get()
    page.fill("#id_amount", "100.00")
    page.select_option("#id_method", "bank_transfer")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("main table")).to_contain_text("100.00 EUR")
    invoice.refresh_from_db()
    rest = invoice.total - Decimal("100.00")
    assert rest > 0
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(f"{rest} EUR")
    page.get_by_role("link", name="balance").click()
    expect(page.locator("main table")).to_contain_text(str(rest))

    # 8. The customer's consumption statistics show the two routers shipped.
    today = dt.date.today()
    page.goto(
        f"{url}/sales/consumption/?customer={customer.customer_number}"
        f"&from={(today - dt.timedelta(days=30)).isoformat()}&to={today.isoformat()}"
    )
    expect(page.get_by_role("heading", name=f"Consumption of {customer.display_name}")).to_be_visible()
    expect(page.locator("main")).to_contain_text("RTR-X1")
    expect(page.locator("main")).to_contain_text("160.00")  # 2 × 80.00 (the discounted price, before tax)
    _shot(page, "consumption")

    # The manager's forecast: the won deal is in the team's numbers (the manager and their report).
    manager.goto(f"{url}/sales/forecast/")
    manager.locator("#id_subject").select_option(label="Field sales")
    manager.get_by_role("button", name="Show").click()
    expect(manager.get_by_role("heading", name="Forecast: Field sales")).to_be_visible()
    won = Opportunity.objects.get(pk=deal.pk)
    expect(manager.locator("#figure-won")).to_contain_text(f"{won.amount} EUR")
    expect(manager.locator("#figure-won")).to_contain_text("1 deal")
    _shot(manager, "forecast")
    boss_context.close()
    rep_context.close()

    # The facts behind what the pages showed.
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_customer == customer
    assert won.status == "won"
    assert Approval.objects.get().status == "approved"
    assert Quote.objects.get(pk=quote.pk).status == "accepted"
    order.refresh_from_db()
    assert order.status == "partial"
    [line] = order.lines.all()
    assert line.quantity == 5 and line.shipped_quantity == 2
    [payment] = Payment.objects.all()
    assert payment.amount == Decimal("100.00") and payment.invoice_id == invoice.pk
    consumption = ConsumptionLine.objects.filter(customer=customer)
    assert sum(c.quantity for c in consumption) == 2
    assert not problems, problems
