"""Quote loose ends: the daily expiry of sent quotes past their date (and accepting one refused), the
deal's amount following the accepted quote, the stage move weighing the deal with its open quotes, and a
typed unit price below the reference price counting as a discount at the approval gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kith.audit.models import AuditEntry
from kith.core.errors import DomainError
from kith.core.models import TimelineEntry
from kith.sales.choices import QuoteStatus, StageKind
from kith.sales.models import CloseReason, ExchangeRate, Opportunity, Quote
from kith.sales.services import approvals
from kith.sales.services import opportunities as opp
from kith.sales.services import quotes as svc
from kith.sales.tests import opportunity_factories
from kith.sales.tests.factories import price_list, product
from kith.sales.tests.quote_factories import customer, free_line, quote
from kith.security.testing import make_user
from kith.webhooks import events
from kith.webhooks import services as webhooks
from kith.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> Iterator[None]:
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True
    events.forget()
    yield
    events.forget()


@pytest.fixture
def manager() -> Any:
    return make_user("boss", "sales_manager")


@pytest.fixture
def rep(manager: Any) -> Any:
    return make_user("rep", "sales_rep", manager=manager)


def _sent(actor: Any, made: Quote) -> Quote:
    return svc.quote_send(actor=actor, quote=made, to="buyer@example.com")


def _won_reason() -> CloseReason | None:
    return CloseReason.objects.filter(kind=StageKind.WON, is_active=True).first()


# --- expiry --------------------------------------------------------------------------------------


def test_the_daily_job_expires_sent_quotes_past_their_date(rep, manager, admin_user, mailoutbox):
    today = timezone.localdate()
    due = _sent(rep, quote(rep, lines=[free_line()], valid_until=today.isoformat()))
    current = _sent(
        rep, quote(rep, lines=[free_line()], valid_until=(today + dt.timedelta(days=1)).isoformat())
    )
    draft = quote(rep, lines=[free_line()], valid_until=today.isoformat())
    # subscribed now: the events of the sending above are not this webhook's
    webhooks.webhook_create(
        actor=admin_user,
        data={"name": "ERP", "url": "http://127.0.0.1:9/hooks", "event_types": ["quote.updated"]},
    )
    tomorrow = today + dt.timedelta(days=1)
    assert svc.quotes_expire(today=tomorrow) == [due.number]
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: QuoteStatus.EXPIRED,
        current.pk: QuoteStatus.SENT,
        draft.pk: QuoteStatus.DRAFT,
    }
    # audited as a change of the quote's status, by the system
    entry = (
        AuditEntry.objects.filter(object_type="sales.quote", object_id=str(due.pk)).order_by("-seq").first()
    )
    assert entry is not None and entry.actor_id is None
    assert entry.changes["status"] == ["sent", "expired"]
    # on the customer's timeline, and a quote.updated event for webhooks
    assert TimelineEntry.objects.filter(kind="sales.quote", title=f"Quote {due.number} expired").exists()
    assert list(WebhookDelivery.objects.values_list("event_type", "subject_id")) == [
        ("quote.updated", str(due.pk))
    ]
    # nothing left to do: a second run expires nothing
    assert svc.quotes_expire(today=tomorrow) == []
    # an expired quote is revised, like a rejected one
    revised = svc.quote_revise(actor=rep, quote=Quote.objects.get(pk=due.pk))
    assert revised.revision == 2 and revised.status == QuoteStatus.DRAFT


def test_accepting_an_expired_quote_is_refused_with_a_clear_message(rep, mailoutbox):
    today = timezone.localdate()
    made = _sent(rep, quote(rep, lines=[free_line()], valid_until=today.isoformat()))
    svc.quotes_expire(today=today + dt.timedelta(days=1))
    with pytest.raises(DomainError) as caught:
        svc.quote_accept(actor=rep, quote=Quote.objects.get(pk=made.pk))
    assert caught.value.code == "quote_expired"
    assert f"valid until {today.isoformat()} and has expired" in caught.value.message
    assert Quote.objects.get(pk=made.pk).status == QuoteStatus.EXPIRED


def test_the_api_refuses_accepting_an_expired_quote_with_its_code(rep, mailoutbox):
    from rest_framework.test import APIClient

    today = timezone.localdate()
    made = _sent(rep, quote(rep, lines=[free_line()], valid_until=today.isoformat()))
    svc.quotes_expire(today=today + dt.timedelta(days=1))
    api = APIClient()
    api.force_authenticate(rep)
    refused = api.post(f"/api/v1/quotes/{made.pk}/accept/", {}, format="json")
    assert refused.status_code == 400 and "quote_expired" in refused.content.decode()
    assert "has expired" in refused.content.decode()


def test_a_sent_quote_past_its_date_is_refused_before_the_job_ran(rep, mailoutbox):
    today = timezone.localdate()
    made = _sent(rep, quote(rep, lines=[free_line()], valid_until=today.isoformat()))
    Quote.objects.filter(pk=made.pk).update(valid_until=today - dt.timedelta(days=1))
    with pytest.raises(DomainError) as caught:
        svc.quote_accept(actor=rep, quote=Quote.objects.get(pk=made.pk))
    assert caught.value.code == "quote_expired"
    assert Quote.objects.get(pk=made.pk).status == QuoteStatus.SENT
    # a rejection is still recorded (the customer said no)
    svc.quote_reject(actor=rep, quote=Quote.objects.get(pk=made.pk))
    assert Quote.objects.get(pk=made.pk).status == QuoteStatus.REJECTED


def test_only_a_sent_quote_past_its_date_expires(rep, mailoutbox):
    today = timezone.localdate()
    made = _sent(rep, quote(rep, lines=[free_line()], valid_until=today.isoformat()))
    with pytest.raises(DomainError) as caught:
        svc.quote_expire(actor=None, quote=made, today=today)
    assert caught.value.code == "quote_not_expirable"


def test_the_expiry_job_is_registered_and_runs_through_the_task(rep, mailoutbox):
    from kith.core.schedule import daily_jobs
    from kith.sales.contract_tasks import quote_expiry

    assert svc.EXPIRY_JOB in [job.name for job in daily_jobs()]
    today = timezone.localdate()
    made = _sent(rep, quote(rep, lines=[free_line()], valid_until=today.isoformat()))
    assert quote_expiry.call((today + dt.timedelta(days=1)).isoformat()) == [made.number]


# --- the deal's amount follows the accepted quote ------------------------------------------------


def test_accepting_sets_the_deal_amount_to_the_quote_total(rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="100.00")
    made = svc.quote_create(
        actor=rep, data={"opportunity": deal}, lines=[free_line(unit_price="250.00", tax_rate="20")]
    )
    _sent(rep, made)
    accepted = svc.quote_accept(actor=rep, quote=made, close_reason=_won_reason())
    deal.refresh_from_db()
    assert deal.amount == D("300.00") and deal.status == StageKind.WON  # 250 net + 50 tax
    assert accepted.deal_amount_not_updated == ""  # type: ignore[attr-defined]
    assert "300.00 EUR" in TimelineEntry.objects.get(kind="sales.opportunity").title


def test_a_quote_in_another_currency_is_converted_at_the_days_rate(rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="100.00", currency="EUR")
    made = svc.quote_create(
        actor=rep, data={"opportunity": deal, "currency": "USD"}, lines=[free_line(unit_price="110.00")]
    )
    ExchangeRate.objects.create(
        from_currency="USD", to_currency="EUR", rate=D("0.9"), date=timezone.localdate()
    )
    _sent(rep, made)
    svc.quote_accept(actor=rep, quote=made, close_reason=_won_reason())
    deal.refresh_from_db()
    assert deal.amount == D("99.00") and deal.currency == "EUR"


def test_without_a_rate_the_amount_stays_and_the_quote_says_why(rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="100.00", currency="EUR")
    made = svc.quote_create(
        actor=rep, data={"opportunity": deal, "currency": "JPY"}, lines=[free_line(unit_price="20000")]
    )
    # marked sent directly: without a rate the gate cannot weigh a JPY amount against the EUR limit
    Quote.objects.filter(pk=made.pk).update(status=QuoteStatus.SENT, version=made.version + 1)
    made.refresh_from_db()
    accepted = svc.quote_accept(actor=rep, quote=made, close_reason=_won_reason())
    deal.refresh_from_db()
    assert deal.amount == D("100.00") and deal.status == StageKind.WON
    note = accepted.deal_amount_not_updated  # type: ignore[attr-defined]
    assert "no exchange rate from JPY to EUR" in note


def test_a_lost_deal_keeps_its_amount(rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="100.00")
    made = svc.quote_create(actor=rep, data={"opportunity": deal}, lines=[free_line(unit_price="500.00")])
    _sent(rep, made)
    lost = opportunity_factories.stage("Lost")
    reason = CloseReason.objects.filter(kind=StageKind.LOST, is_active=True).first()
    opp.opportunity_move(actor=rep, opportunity=deal, stage=lost, close_reason=reason)
    svc.quote_accept(actor=rep, quote=made)
    deal.refresh_from_db()
    assert deal.amount == D("100.00") and deal.status == StageKind.LOST


# --- one approval check ---------------------------------------------------------------------------


def test_the_stage_move_weighs_the_deal_with_its_open_quotes(rep, manager):
    deal = opportunity_factories.opportunity(rep, amount="1000.00")
    # the deal itself is within the limits; its draft quote gives 25 % off
    svc.quote_create(
        actor=rep, data={"opportunity": deal}, lines=[free_line(unit_price="1000.00", discount_percent="25")]
    )
    assert approvals.needs_approval(deal)  # what the deal's page says
    proposal = opportunity_factories.stage("Proposal sent")
    with pytest.raises(opp.ApprovalRequired) as caught:
        opp.opportunity_move(actor=rep, opportunity=deal, stage=proposal)
    assert "25%" in caught.value.message
    approval = approvals.approval_request(actor=rep, opportunity=deal)
    assert approval.discount_percent == D("25.00")
    approvals.approval_decide(actor=manager, approval=approval, approve=True)
    opp.opportunity_move(actor=rep, opportunity=deal, stage=proposal)
    assert Opportunity.objects.get(pk=deal.pk).stage == proposal


# --- a typed low unit price counts as a discount -------------------------------------------------


def test_a_typed_price_30_percent_under_list_needs_approval(rep, manager, mailoutbox):
    router = product(sku="RT-1", name="Router", list_price="100.00")
    deal = opportunity_factories.opportunity(rep, amount="70.00")
    made = svc.quote_create(
        actor=rep,
        data={"opportunity": deal},
        lines=[{"product": router.pk, "quantity": "1", "unit_price": "70.00"}],
    )
    line = made.lines.get()
    assert line.discount_percent == D("0.00")  # no discount typed ...
    assert svc.gate_discount(made) == D("30.00")  # ... but 30 % under the list price
    with pytest.raises(svc.ApprovalRequired) as caught:
        _sent(rep, made)
    assert "30%" in caught.value.reasons[0]
    # the deal's page asks for the same approval; once granted the quote goes out
    assert approvals.asked_for(deal)[2] == D("30.00")
    approval = approvals.approval_request(actor=rep, opportunity=deal)
    approvals.approval_decide(actor=manager, approval=approval, approve=True)
    _sent(rep, made)
    assert made.status == QuoteStatus.SENT


def test_the_reference_is_the_price_list_price_and_discounts_compound(rep):
    router = product(sku="RT-1", name="Router", list_price="100.00")
    wholesale = price_list(items=[{"product": router, "unit_price": "80.00"}])
    made = svc.quote_create(
        actor=rep,
        data={"customer": customer(owner=rep), "currency": "EUR", "price_list": wholesale},
        lines=[
            {"product": router.pk, "quantity": "2"},  # the list's price: 80, no discount
            {"product": router.pk, "quantity": "3", "unit_price": "76.00", "discount_percent": "5"},
        ],
    )
    # 76 × 0.95 = 72.20 against 80: 9.75 % — within the 10 % limit though both figures are small
    assert svc.gate_discount(made) == D("9.75")
    svc.quote_line_update(actor=rep, line=made.lines.get(quantity=2), data={"unit_price": "71.99"})
    made.refresh_from_db()
    assert svc.gate_discount(made) == D("10.02")  # 1 − 71.99 / 80 = 10.0125 %, rounded up


def test_a_line_at_its_reference_with_a_typed_discount_is_weighed_exactly(rep):
    router = product(sku="RT-1", name="Router", list_price="19.99")
    at_reference = quote(rep, lines=[{"product": router.pk, "quantity": "3", "discount_percent": "10"}])
    # the net before rounding: exactly 10 % (1 − 53.97 / 59.97 would say 10.01)
    assert svc.largest_effective_discount(at_reference) == D("10.00")
    above = quote(
        rep, lines=[{"product": router.pk, "quantity": "3", "unit_price": "20.00", "discount_percent": "10"}]
    )
    # above the reference: 1 − 18 / 19.99 = 9.955 %, rounded up; the typed 10 % is the larger
    assert svc.largest_effective_discount(above) == D("9.96")
    assert svc.gate_discount(above) == D("10.00")
    # a converted list price is the reference when there is no price in the quote's currency
    ExchangeRate.objects.create(
        from_currency="EUR", to_currency="USD", rate=D("1.10"), date=timezone.localdate()
    )
    usd = quote(rep, currency="USD", lines=[{"product": router.pk, "quantity": "1", "unit_price": "15.00"}])
    # 19.99 EUR = 21.99 USD; 15 / 21.99 → 31.79 % off
    assert svc.gate_discount(usd) == D("31.79")
    # a free-text line has no reference: its typed discount counts
    assert svc.gate_discount(quote(rep, lines=[free_line(unit_price="1.00")])) == D("0.00")


def test_accepting_one_quote_supersedes_the_deals_other_open_quotes(rep, mailoutbox):
    """The customer chose one offer: an unsent draft with a large discount no longer blocks the deal."""
    deal = opportunity_factories.opportunity(rep, amount="100.00")
    chosen = svc.quote_create(actor=rep, data={"opportunity": deal}, lines=[free_line(unit_price="100.00")])
    _sent(rep, chosen)
    draft = svc.quote_create(
        actor=rep, data={"opportunity": deal}, lines=[free_line(unit_price="100.00", discount_percent="30")]
    )
    assert approvals.needs_approval(Opportunity.objects.get(pk=deal.pk))  # the draft weighs on the deal
    accepted = svc.quote_accept(actor=rep, quote=chosen, close_reason=_won_reason())
    assert accepted.superseded == [draft.number]  # type: ignore[attr-defined]
    assert accepted.deal_not_won == ""  # type: ignore[attr-defined]
    draft.refresh_from_db()
    deal.refresh_from_db()
    assert draft.status == QuoteStatus.SUPERSEDED and deal.status == StageKind.WON
    entry = (
        AuditEntry.objects.filter(object_type="sales.quote", object_id=str(draft.pk)).order_by("-seq").first()
    )
    assert entry is not None and entry.changes["status"] == ["draft", "superseded"]


def test_accepting_leaves_a_deal_and_quotes_the_actor_may_not_change(admin_user, mailoutbox):
    """Rep A's quote on rep B's deal: accepting it neither changes B's deal nor supersedes B's quote, and
    does not name B's quote (found by review)."""
    a = make_user("rep_a", "sales_rep")
    b = make_user("rep_b", "sales_rep")
    deal = opportunity_factories.opportunity(admin_user, amount="1000.00", currency="EUR")
    Opportunity.objects.filter(pk=deal.pk).update(owner=b)
    mine = quote(admin_user, opportunity=deal, lines=[free_line(unit_price="5000.00")])
    theirs = quote(admin_user, opportunity=deal, lines=[free_line()])
    Quote.objects.filter(pk=mine.pk).update(owner=a, status=QuoteStatus.SENT, sent_at=timezone.now())
    Quote.objects.filter(pk=theirs.pk).update(owner=b)
    result = svc.quote_accept(actor=a, quote=Quote.objects.get(pk=mine.pk))
    deal.refresh_from_db()
    assert result.status == QuoteStatus.ACCEPTED
    assert result.superseded == []  # type: ignore[attr-defined]
    assert Quote.objects.get(pk=theirs.pk).status == QuoteStatus.DRAFT
    assert deal.amount == D("1000.00") and deal.status == StageKind.OPEN
    assert "owner closes it" in result.deal_not_won  # type: ignore[attr-defined]


def test_a_price_list_of_another_customer_group_is_refused(rep, mailoutbox):
    """A 'Partners -50 %' list on an ordinary customer's quote would set the price and the approval gate's
    reference price to half the list price (found by review)."""
    from django.core.exceptions import ValidationError

    from kith.parties.services import catalogues

    tree = catalogues.category_tree_create(actor=None, data={"name": "Segment"})
    partners = catalogues.category_create(actor=None, tree=tree, name="Partners")
    router = product(sku="RT-1", name="Router", list_price="100.00")
    partner_list = price_list(
        name="Partners -50%", customer_group=partners.pk, items=[{"product": router, "unit_price": "50.00"}]
    )
    buyer = customer(owner=rep)
    deal = opportunity_factories.opportunity(rep, customer=buyer, amount="50.00")
    with pytest.raises(ValidationError) as refused:
        svc.quote_create(
            actor=rep,
            data={"opportunity": deal, "price_list": partner_list},
            lines=[{"product": router.pk, "quantity": "1"}],
        )
    assert "another customer group" in refused.value.message_dict["price_list"][0]
    # a partner may have it
    partner = customer(owner=rep)
    partner.categories.add(partners)
    deal = opportunity_factories.opportunity(rep, customer=partner, amount="50.00")
    made = svc.quote_create(
        actor=rep,
        data={"opportunity": deal, "price_list": partner_list},
        lines=[{"product": router.pk, "quantity": "1"}],
    )
    assert made.lines.get().unit_price == D("50.00") and svc.gate_discount(made) == D("0")
