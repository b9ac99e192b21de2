"""Quote services: numbers, lines priced from products, refusals, revisions, the approval gate, the PDF,
sending by email through a real SMTP server on loopback, accept/reject and visibility."""

from __future__ import annotations

import datetime as dt
import email
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from kith.core.errors import ConflictError, DeleteRefused, DomainError
from kith.core.models import TimelineEntry
from kith.parties.choices import CustomerStatus
from kith.sales.choices import QuoteStatus, StageKind
from kith.sales.models import CloseReason, ExchangeRate, Quote, QuoteLine
from kith.sales.selectors import quotes as quote_selectors
from kith.sales.services import approvals
from kith.sales.services import quotes as svc
from kith.sales.services.quote_pdf import CJK_FONTS, find_fonts, render_quote_pdf
from kith.sales.tests import opportunity_factories
from kith.sales.tests.factories import price_list, product
from kith.sales.tests.quote_factories import customer, free_line, quote
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def manager() -> Any:
    return make_user("boss", "sales_manager")


@pytest.fixture
def rep(manager: Any) -> Any:
    return make_user("rep", "sales_rep", manager=manager)


# --- numbers and creation ------------------------------------------------------------------------


def test_numbers_follow_the_pattern_and_are_never_reused(rep, manager):
    year = timezone.localdate().year
    first = quote(rep)
    second = quote(rep)
    assert first.number == f"Q{year}-00001" and second.number == f"Q{year}-00002"
    assert first.revision == 1 and first.status == QuoteStatus.DRAFT and first.version == 1
    assert first.owner == rep and first.valid_until == timezone.localdate() + dt.timedelta(days=30)
    svc.quote_delete(actor=manager, quote=second)
    assert quote(rep).number == f"Q{year}-00003"


def test_number_pattern_is_a_setting(rep, settings):
    settings.KITH_QUOTE_NUMBER_PATTERN = "ACME-{seq:04}"
    assert quote(rep).number == "ACME-0001"


def test_a_quote_of_an_opportunity_takes_its_customer_owner_and_currency(rep, manager):
    deal = opportunity_factories.opportunity(rep, currency="USD")
    made = svc.quote_create(actor=manager, data={"opportunity": deal})
    assert made.customer == deal.customer and made.owner == rep and made.currency == "USD"


def test_archived_customer_and_bad_header_are_refused_at_once(rep):
    archived = customer(owner=rep, status=CustomerStatus.ARCHIVED)
    with pytest.raises(ValidationError) as caught:
        svc.quote_create(actor=rep, data={"customer": archived, "currency": "EUR"})
    assert "archived" in caught.value.message_dict["customer"][0]
    with pytest.raises(ValidationError) as caught:
        svc.quote_create(
            actor=rep,
            data={"customer": customer(owner=rep), "currency": "XYZ", "valid_until": "2001-01-01"},
        )
    assert set(caught.value.message_dict) == {"currency", "valid_until"}
    assert Quote.objects.count() == 0


def test_a_customer_the_user_cannot_see_is_refused(rep):
    peer = make_user("peer", "sales_rep")
    with pytest.raises(ValidationError) as caught:
        svc.quote_create(actor=peer, data={"customer": customer(owner=rep), "currency": "EUR"})
    assert "customer" in caught.value.message_dict


# --- lines ---------------------------------------------------------------------------------------


def test_a_product_line_takes_name_unit_tax_and_the_customers_price(rep):
    sim = product(sku="SIM-1", name="SIM card", list_price="10.00", tax_rate="20", unit="pcs")
    price_list(items=[{"product": sim.pk, "unit_price": "8.00", "min_quantity": "10"}])
    made = quote(rep)
    line = svc.quote_line_add(actor=rep, quote=made, data={"product": sim, "quantity": "2"})
    assert (line.description, line.unit, line.tax_rate, line.unit_price) == (
        "SIM card",
        "pcs",
        D("20"),
        D("10.00"),
    )
    # a quantity break re-reads the price; a price given by the user wins
    svc.quote_line_update(actor=rep, line=line, data={"quantity": "10"})
    line.refresh_from_db()
    assert line.unit_price == D("8.00") and line.net == D("80.00")
    svc.quote_line_update(actor=rep, line=line, data={"unit_price": "7.50", "discount_percent": "10"})
    line.refresh_from_db()
    made.refresh_from_db()
    assert line.unit_price == D("7.50") and line.net == D("67.50") and made.total == D("81.00")
    assert made.version == 4
    # a typed price stays when the quantity changes
    svc.quote_line_update(actor=rep, line=line, data={"quantity": "2"})
    line.refresh_from_db()
    assert line.unit_price == D("7.50")


def test_a_quote_price_list_wins(rep):
    sim = product(sku="SIM-1", list_price="10.00")
    special = price_list(name="Special", items=[{"product": sim.pk, "unit_price": "9.50"}])
    price_list(name="Cheaper", items=[{"product": sim.pk, "unit_price": "9.00"}])
    made = quote(rep, price_list=special)
    line = svc.quote_line_add(actor=rep, quote=made, data={"product": sim, "quantity": "1"})
    assert line.unit_price == D("9.50")


def test_a_product_in_another_currency_is_converted_or_refused(rep):
    sim = product(sku="SIM-1", list_price="10.00", currency="EUR")
    made = quote(rep, currency="USD")
    with pytest.raises(ValidationError) as caught:
        svc.quote_line_add(actor=rep, quote=made, data={"product": sim, "quantity": "1"})
    assert "no exchange rate" in caught.value.message_dict["product"][0].lower()
    ExchangeRate.objects.create(
        from_currency="EUR", to_currency="USD", rate=D("1.1"), date=timezone.localdate()
    )
    made.refresh_from_db()
    line = svc.quote_line_add(actor=rep, quote=made, data={"product": sim, "quantity": "1"})
    assert line.unit_price == D("11.00") and line.currency == "USD"


def test_bad_lines_are_refused_with_every_error(rep):
    made = quote(rep, currency="JPY")
    with pytest.raises(ValidationError) as caught:
        svc.quote_line_add(
            actor=rep,
            quote=made,
            data={
                "description": "",
                "quantity": "-1",
                "unit_price": "10.5",
                "discount_percent": "120",
                "currency": "EUR",
            },
        )
    errors = caught.value.message_dict
    assert set(errors) == {"description", "quantity", "unit_price", "discount_percent", "currency"}
    assert "more than zero" in errors["quantity"][0]
    assert "no decimal places" in errors["unit_price"][0]
    assert "0 to 100" in errors["discount_percent"][0]
    assert "Currency mismatch" in errors["currency"][0]
    with pytest.raises(ValidationError) as caught:
        svc.quote_line_add(actor=rep, quote=made, data=free_line(quantity="0", unit_price="10"))
    assert "quantity" in caught.value.message_dict
    eur = quote(rep)
    with pytest.raises(ValidationError) as caught:
        svc.quote_line_add(actor=rep, quote=eur, data=free_line(unit_price="1.005"))
    assert "At most 2 decimal places" in caught.value.message_dict["unit_price"][0]
    assert QuoteLine.objects.count() == 0


def test_lines_in_one_create_are_checked_together(rep):
    with pytest.raises(ValidationError) as caught:
        quote(rep, lines=[free_line(), free_line(quantity="-2"), free_line(currency="USD")])
    assert set(caught.value.message_dict) == {"lines.1.quantity", "lines.2.currency"}
    assert Quote.objects.count() == 0


def test_the_currency_cannot_change_once_there_are_lines(rep):
    made = quote(rep, lines=[free_line()])
    with pytest.raises(ValidationError) as caught:
        svc.quote_update(actor=rep, quote=made, data={"currency": "USD"})
    assert "one currency" in caught.value.message_dict["currency"][0]
    svc.quote_update(actor=rep, quote=made, data={"terms": "Net 30"})
    assert made.terms == "Net 30" and made.version == 2


def test_remove_and_reorder_lines(rep):
    made = quote(
        rep, lines=[free_line(description="A"), free_line(description="B"), free_line(description="C")]
    )
    a, b, c = made.lines.order_by("position")
    svc.quote_lines_reorder(actor=rep, quote=made, order=[c.pk, a.pk, b.pk])
    assert [line.description for line in made.lines.order_by("position")] == ["C", "A", "B"]
    with pytest.raises(ValidationError):
        svc.quote_lines_reorder(actor=rep, quote=made, order=[c.pk, a.pk])
    svc.quote_line_remove(actor=rep, line=a)
    made.refresh_from_db()
    assert made.total == D("200.00") and made.lines.count() == 2


def test_a_stale_version_is_a_conflict(rep):
    made = quote(rep)
    stale = Quote.objects.get(pk=made.pk)
    svc.quote_line_add(actor=rep, quote=made, data=free_line())
    with pytest.raises(ConflictError):
        svc.quote_line_add(actor=rep, quote=stale, data=free_line())
    with pytest.raises(ConflictError):
        svc.quote_update(actor=rep, quote=made, data={"terms": "x"}, expected_version=1)


# --- revisions -----------------------------------------------------------------------------------


def _sent(actor: Any, made: Quote) -> Quote:
    return svc.quote_send(actor=actor, quote=made, to="buyer@example.com")


def test_a_sent_quote_is_not_edited_but_revised(rep, manager, mailoutbox):
    made = quote(rep, lines=[free_line(discount_percent="5")])
    _sent(rep, made)
    with pytest.raises(DomainError) as caught:
        svc.quote_line_add(actor=rep, quote=made, data=free_line())
    assert "new revision" in caught.value.message
    with pytest.raises(DeleteRefused):
        svc.quote_delete(actor=manager, quote=made)
    second = svc.quote_revise(actor=rep, quote=made)
    made.refresh_from_db()
    assert made.status == QuoteStatus.SUPERSEDED
    assert (second.number, second.revision, second.status) == (made.number, 2, QuoteStatus.DRAFT)
    assert second.total == made.total and second.lines.get().discount_percent == D("5")
    svc.quote_line_add(actor=rep, quote=second, data=free_line())
    _sent(rep, second)
    svc.quote_reject(actor=rep, quote=second)
    third = svc.quote_revise(actor=rep, quote=second)
    assert third.revision == 3 and third.number == made.number
    with pytest.raises(DomainError):
        svc.quote_revise(actor=rep, quote=third)  # a draft is edited, not revised


# --- the approval gate ---------------------------------------------------------------------------


def test_a_discounted_quote_waits_for_the_managers_approval(rep, manager, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="1000.00", discount_percent="20")
    made = svc.quote_create(
        actor=rep, data={"opportunity": deal}, lines=[free_line(unit_price="1000.00", discount_percent="20")]
    )
    with pytest.raises(svc.ApprovalRequired) as caught:
        _sent(rep, made)
    assert caught.value.opportunity == deal and "discount" in caught.value.reasons[0]
    assert Quote.objects.get(pk=made.pk).status == QuoteStatus.DRAFT and mailoutbox == []
    approval = approvals.approval_request(actor=rep, opportunity=deal)
    with pytest.raises(svc.ApprovalRequired):
        _sent(rep, made)  # asked, not granted
    approvals.approval_decide(actor=manager, approval=approval, approve=True)
    _sent(rep, made)
    assert made.status == QuoteStatus.SENT


def test_the_overall_discount_counts_for_the_gate(rep):
    made = quote(
        rep, lines=[free_line(unit_price="100.00", discount_percent="50"), free_line(unit_price="100.00")]
    )
    assert svc.gate_discount(made) == D("50.00")
    with pytest.raises(svc.ApprovalRequired) as caught:
        _sent(rep, made)
    assert "attach it to an opportunity" in caught.value.message


def test_a_quote_within_the_limits_needs_no_approval(rep, mailoutbox):
    made = quote(rep, lines=[free_line(discount_percent="10")])
    _sent(rep, made)
    assert made.status == QuoteStatus.SENT


# --- PDF -----------------------------------------------------------------------------------------


def test_the_pdf_has_the_number_and_survives_chinese_names(rep, settings):
    made = quote(
        rep,
        customer=customer(owner=rep, legal_name="北京长城贸易有限公司"),
        lines=[free_line(description="光纤安装 Fibre installation")],
        terms="付款条件: 30 天",
    )
    pdf = render_quote_pdf(made)
    assert pdf.startswith(b"%PDF") and made.number.encode() in pdf
    fonts = find_fonts()
    if fonts.regular:  # a second TrueType font as the fallback: the fallback path works
        settings.KITH_PDF_CJK_FONT = fonts.regular
        assert render_quote_pdf(made).startswith(b"%PDF")
    settings.KITH_PDF_FONT = "/nonexistent/font.ttf"
    settings.KITH_PDF_CJK_FONT = "/nonexistent/cjk.ttf"
    assert render_quote_pdf(made).startswith(b"%PDF")


def test_chinese_names_are_drawn_with_the_chinese_font(rep):
    """With a CJK font installed (``make browser-deps`` installs fonts-wqy-microhei), the Chinese text is
    in the PDF: its glyphs are embedded from that font, not left out."""
    import os

    fonts = find_fonts()
    if fonts.cjk is None and fonts.regular not in CJK_FONTS:
        message = "no Chinese font on this machine (apt-get install fonts-wqy-microhei)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    latin = quote(rep, customer=customer(owner=rep, legal_name="Acme Ltd"), lines=[free_line()])
    chinese = quote(
        rep,
        customer=customer(owner=rep, legal_name="北京长城贸易有限公司"),
        lines=[free_line(description="光纤安装")],
    )

    def mapped_characters(pdf: bytes) -> bytes:
        """The PDF's glyph-to-Unicode maps (ToUnicode CMaps: ``<glyph> <code point>`` per glyph drawn)."""
        import re

        return b" ".join(re.findall(rb"<[0-9A-F]{4}> <([0-9A-F]{4,})>", pdf))

    drawn = mapped_characters(render_quote_pdf(chinese))
    assert b"5317" in drawn and b"4EAC" in drawn  # 北京: the glyphs are there, not left out
    assert b"5317" not in mapped_characters(render_quote_pdf(latin))


def test_the_pdf_without_any_truetype_font_falls_back_to_helvetica(rep, monkeypatch):
    from kith.sales.services import quote_pdf

    monkeypatch.setattr(quote_pdf, "LATIN_FONTS", ())
    monkeypatch.setattr(quote_pdf, "CJK_FONTS", ())
    made = quote(rep, customer=customer(owner=rep, legal_name="张伟贸易"), lines=[free_line()])
    pdf = render_quote_pdf(made)
    assert pdf.startswith(b"%PDF") and made.number.encode() in pdf


# --- sending through a real SMTP server ----------------------------------------------------------


def test_send_emails_the_pdf_after_commit_and_shows_on_the_timeline(
    rep, smtp, settings, django_capture_on_commit_callbacks
):
    settings.KITH_COMPANY_NAME = "Kith Telecom"
    buyer = customer(owner=rep, emails=[{"address": "buyer@example.com", "is_primary": True}])
    made = quote(rep, customer=buyer, lines=[free_line()])
    with django_capture_on_commit_callbacks(execute=True):
        svc.quote_send(actor=rep, quote=made, message="Here it is.")
    assert made.status == QuoteStatus.SENT and made.sent_to == "buyer@example.com" and made.sent_at
    [(recipients, message)] = smtp.messages
    assert recipients == ["buyer@example.com"]
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == f"Quote {made.number} – Kith Telecom"
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1 and attachments[0].get_filename() == f"{made.number}.pdf"
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.startswith(b"%PDF") and made.number.encode() in payload
    entry = TimelineEntry.objects.get(subject_id=buyer.pk, kind="sales.quote")
    assert "sent to buyer@example.com" in entry.title


def test_send_needs_an_address_and_a_line(rep, mailoutbox):
    made = quote(rep)
    with pytest.raises(ValidationError) as caught:
        svc.quote_send(actor=rep, quote=made, to="")
    assert set(caught.value.message_dict) == {"to", "__all__"}
    with pytest.raises(ValidationError) as caught:
        svc.quote_send(actor=rep, quote=made, to="not an address")
    assert "valid email" in caught.value.message_dict["to"][0]
    assert Quote.objects.get(pk=made.pk).status == QuoteStatus.DRAFT and mailoutbox == []


# --- accept and reject ---------------------------------------------------------------------------


def test_accepting_wins_the_open_deal(rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="100.00")
    made = svc.quote_create(actor=rep, data={"opportunity": deal}, lines=[free_line()])
    _sent(rep, made)
    won_reason = CloseReason.objects.filter(kind=StageKind.WON).first()
    svc.quote_accept(actor=rep, quote=made, close_reason=won_reason)
    deal.refresh_from_db()
    assert made.status == QuoteStatus.ACCEPTED and made.decided_at and made.deal_not_won == ""  # type: ignore[attr-defined]
    assert deal.status == StageKind.WON
    titles = list(TimelineEntry.objects.filter(kind="sales.quote").values_list("title", flat=True))
    assert any("accepted" in t for t in titles)
    with pytest.raises(DomainError):
        svc.quote_reject(actor=rep, quote=made)


def test_accepting_without_a_reason_keeps_the_quote_accepted_and_says_why(rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="100.00")
    made = svc.quote_create(actor=rep, data={"opportunity": deal}, lines=[free_line()])
    _sent(rep, made)
    svc.quote_accept(actor=rep, quote=made)
    deal.refresh_from_db()
    assert made.status == QuoteStatus.ACCEPTED and deal.status == StageKind.OPEN
    assert made.deal_not_won  # type: ignore[attr-defined]


def test_only_a_sent_quote_is_decided(rep):
    with pytest.raises(DomainError):
        svc.quote_accept(actor=rep, quote=quote(rep))


# --- visibility ----------------------------------------------------------------------------------


def test_rep_manager_and_peer_see_what_they_should(rep, manager):
    mine = quote(rep)
    peer = make_user("peer", "sales_rep")
    assert quote_selectors.quote_for(rep, mine.pk) == mine
    assert quote_selectors.quote_for(manager, mine.pk) == mine
    with pytest.raises(Http404):
        quote_selectors.quote_for(peer, mine.pk)
    assert list(quote_selectors.quote_list(user=peer)) == []
    with pytest.raises(PermissionDenied):
        svc.quote_line_add(actor=peer, quote=mine, data=free_line())
    viewer = make_user("viewer", "viewer")
    with pytest.raises(PermissionDenied):
        svc.quote_create(actor=viewer, data={"customer": customer(owner=viewer), "currency": "EUR"})


def test_a_line_names_a_product_only_for_who_may_see_the_products(rep):
    from kith.sales.models import Product
    from kith.security.models import Role

    Role.objects.create(
        code="quotes-no-catalogue",
        name="Quotes, no catalogue",
        permissions=["customer.view", "customer.create", "quote.view", "quote.create", "quote.edit"],
    )
    clerk = make_user("clerk", "quotes-no-catalogue")
    product = Product.objects.create(sku="HIDDEN-1", name="Hidden", list_price="10.00", currency="EUR")
    with pytest.raises(ValidationError) as refused:
        quote(clerk, lines=[{"product": product.pk, "quantity": "1"}])
    assert "lines.0.product" in refused.value.message_dict or "product" in str(refused.value.message_dict)
    made = quote(rep, lines=[{"product": product.pk, "quantity": "1"}])  # a rep views products
    assert made.lines.get().product == product
