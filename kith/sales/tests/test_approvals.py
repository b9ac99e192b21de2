"""Approvals: the limits (discount threshold, amount limit with conversion, no rate), who is asked and who
may decide, one waiting request, rejection comments, superseded approvals, the emails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.sales.choices import ApprovalStatus
from kith.sales.models import Approval, ExchangeRate
from kith.sales.services import approvals as svc
from kith.sales.services import opportunities as opp
from kith.sales.tests import opportunity_factories as f
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    director = make_user("director", "sales_manager")
    boss = make_user("boss", "sales_manager", manager=director)
    rep = make_user("rep", "sales_rep", manager=boss)
    return director, boss, rep


def reasons(amount: str, currency: str = "EUR", discount: str = "0") -> list[str]:
    return svc.approval_reasons(amount=Decimal(amount), currency=currency, discount_percent=Decimal(discount))


def test_thresholds(settings) -> None:  # type: ignore[no-untyped-def]
    settings.KITH_DEFAULT_CURRENCY = "EUR"
    assert reasons("100000", discount="10") == []
    assert "discount" in reasons("1", discount="10.01")[0]
    assert "100000" in reasons("100000.01")[0]
    assert len(reasons("200000", discount="50")) == 2
    svc.approval_limits_set(
        actor=None, data={"max_discount_percent": "5", "max_amount": "1000", "currency": "USD"}
    )
    assert (
        reasons("1", discount="6") and reasons("1001", currency="USD") and not reasons("999", currency="USD")
    )


def test_amount_in_another_currency_is_converted(settings) -> None:  # type: ignore[no-untyped-def]
    settings.KITH_DEFAULT_CURRENCY = "EUR"
    ExchangeRate.objects.create(
        from_currency="CNY", to_currency="EUR", rate=Decimal("0.125"), date=dt.date(2020, 1, 1)
    )
    assert reasons("800000", currency="CNY") == []  # 100000 EUR
    over = reasons("800008", currency="CNY")
    assert len(over) == 1 and "100001.00 EUR" in over[0]
    missing = reasons("5", currency="JPY")
    assert len(missing) == 1 and "no exchange rate" in missing[0]


def test_limits_refuse_bad_input() -> None:
    with pytest.raises(ValidationError) as caught:
        svc.approval_limits_set(
            actor=None, data={"max_discount_percent": "101", "max_amount": "-1", "currency": "XYZ"}
        )
    assert set(caught.value.message_dict) == {"max_discount_percent", "max_amount", "currency"}


def test_request_goes_to_the_manager_by_email(team, mailoutbox, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _director, boss, rep = team
    deal = f.opportunity(rep, discount_percent="20")
    with django_capture_on_commit_callbacks(execute=True):
        approval = svc.approval_request(actor=rep, opportunity=deal, comment="Strategic")
    assert approval.approver == boss and approval.status == ApprovalStatus.PENDING
    assert "discount" in approval.reasons
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [boss.email]
    assert "Strategic" in mailoutbox[0].body and f"/sales/opportunities/{deal.pk}/" in mailoutbox[0].body
    assert list(svc.approvals_to_decide(boss)) == [approval]
    assert list(svc.approvals_to_decide(rep)) == []


def test_only_one_waiting_and_none_when_not_needed(team) -> None:  # type: ignore[no-untyped-def]
    _director, _boss, rep = team
    small = f.opportunity(rep, amount="10")
    with pytest.raises(svc.ApprovalRefused):
        svc.approval_request(actor=rep, opportunity=small)
    deal = f.opportunity(rep, discount_percent="20")
    svc.approval_request(actor=rep, opportunity=deal)
    with pytest.raises(svc.ApprovalRefused):
        svc.approval_request(actor=rep, opportunity=deal)
    assert Approval.objects.count() == 1


def test_who_may_decide(team) -> None:  # type: ignore[no-untyped-def]
    director, boss, rep = team
    peer = make_user("peer", "sales_manager")
    deal = f.opportunity(rep, discount_percent="20")
    approval = svc.approval_request(actor=rep, opportunity=deal)
    assert svc.can_decide(boss, approval) and svc.can_decide(
        director, approval
    )  # the approver; above with approve
    assert not svc.can_decide(rep, approval)  # the requester
    assert not svc.can_decide(peer, approval)  # holds approve, but not above the owner
    with pytest.raises(PermissionDenied):
        svc.approval_decide(actor=peer, approval=approval, approve=True)
    with pytest.raises(ValidationError) as caught:
        svc.approval_decide(actor=boss, approval=approval, approve=False, comment="  ")
    assert "comment" in caught.value.message_dict
    svc.approval_decide(actor=director, approval=approval, approve=False, comment="Too cheap")
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.REJECTED and approval.decided_by == director
    with pytest.raises(svc.AlreadyDecided):
        svc.approval_decide(actor=boss, approval=approval, approve=True)


def test_requester_never_decides_even_as_manager(team) -> None:  # type: ignore[no-untyped-def]
    _director, boss, rep = team
    deal = f.opportunity(rep, discount_percent="20")
    approval = svc.approval_request(actor=boss, opportunity=deal)
    with pytest.raises(PermissionDenied):
        svc.approval_decide(actor=boss, approval=approval, approve=True)


def test_without_a_manager_approve_holders_decide(
    team, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    director, _boss, _rep = team
    loner = make_user("loner", "sales_rep")
    deal = f.opportunity(loner, discount_percent="20")
    with django_capture_on_commit_callbacks(execute=True):
        approval = svc.approval_request(actor=loner, opportunity=deal)
    assert approval.approver is None
    assert director.email in mailoutbox[0].to
    peer = make_user("peer", "sales_manager")
    assert svc.can_decide(peer, approval)
    assert approval in list(svc.approvals_to_decide(peer))


def test_raising_the_amount_supersedes_the_approval(team) -> None:  # type: ignore[no-untyped-def]
    _director, boss, rep = team
    deal = f.opportunity(rep, amount="150000")
    approval = svc.approval_request(actor=rep, opportunity=deal)
    svc.approval_decide(actor=boss, approval=approval, approve=True)
    assert svc.needs_approval(deal) == []
    opp.opportunity_move(actor=rep, opportunity=deal, stage=f.stage("Proposal sent"), expected_version=1)
    opp.opportunity_update(actor=rep, opportunity=deal, data={"amount": "140000"})  # lower: still covered
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED
    opp.opportunity_update(actor=rep, opportunity=deal, data={"amount": "160000"})
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.SUPERSEDED
    assert svc.needs_approval(deal)
    with pytest.raises(opp.ApprovalRequired):
        opp.opportunity_move(
            actor=rep, opportunity=deal, stage=f.stage("Negotiation"), expected_version=deal.version
        )
    assert (
        svc.approval_covering(deal, amount=Decimal("150000"), currency="EUR", discount_percent=Decimal(0))
        is None
    )


def test_skipping_the_approval_stage_to_won_is_refused(team) -> None:  # type: ignore[no-untyped-def]
    _director, _boss, rep = team
    deal = f.opportunity(rep, discount_percent="30")
    from kith.sales.models import CloseReason

    with pytest.raises(opp.ApprovalRequired):
        opp.opportunity_move(
            actor=rep,
            opportunity=deal,
            stage=f.stage("Won"),
            expected_version=1,
            close_reason=CloseReason.objects.get(name="Best price"),
        )
    opp.opportunity_move(
        actor=rep,
        opportunity=deal,
        stage=f.stage("Lost"),
        expected_version=1,
        close_reason=CloseReason.objects.get(name="No budget"),
    )


def test_withdraw(team) -> None:  # type: ignore[no-untyped-def]
    _director, boss, rep = team
    deal = f.opportunity(rep, discount_percent="20")
    approval = svc.approval_request(actor=rep, opportunity=deal)
    with pytest.raises(PermissionDenied):
        svc.approval_withdraw(actor=boss, approval=approval)
    svc.approval_withdraw(actor=rep, approval=approval)
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.WITHDRAWN
    svc.approval_request(actor=rep, opportunity=deal)  # a new one may be asked


def test_a_discounted_quote_is_approved_from_its_deal(team) -> None:  # type: ignore[no-untyped-def]
    from kith.sales.services import quotes
    from kith.sales.tests.quote_factories import free_line, quote

    _director, boss, rep = team
    deal = f.opportunity(rep, owner=rep, amount="1000.00")
    assert svc.needs_approval(deal) == []  # the deal alone is within the limits
    offer = quote(
        rep, opportunity=deal, lines=[free_line(quantity="5", unit_price="100", discount_percent="20")]
    )
    assert svc.needs_approval(deal) == ["the discount of 20% is above the 10% limit"]
    with pytest.raises(Exception, match="approval"):
        quotes.check_approval(offer)
    asked = svc.approval_request(actor=rep, opportunity=deal, comment="volume deal")
    assert (asked.amount, asked.discount_percent) == (Decimal("1000.00"), Decimal("20.00"))
    svc.approval_decide(actor=boss, approval=asked, approve=True, comment="fine")
    assert svc.needs_approval(deal) == []
    quotes.check_approval(offer)  # the approval covers the quote: it may be sent
