"""Order services: numbers, exact totals, refusals (archived customer, currency mismatch, too many
decimals, negative quantities), orders from accepted quotes, confirm and cancel, visibility, conflicts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from kith.core.errors import ConflictError, DomainError
from kith.core.models import TimelineEntry
from kith.parties.choices import CustomerStatus
from kith.parties.models import Customer
from kith.sales.models import Order, OrderStatus
from kith.sales.selectors import orders as selectors
from kith.sales.services import orders as svc
from kith.sales.services.quotes import totals_of
from kith.sales.tests import order_factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def boss() -> Any:
    return f.manager()


@pytest.fixture
def rep(boss: Any) -> Any:
    return f.rep(manager=boss)


def test_numbers_are_sequential_and_never_reused(rep):
    year = timezone.localdate().year
    first = f.order(rep)
    second = f.order(rep)
    assert first.number == f"O{year}-00001" and second.number == f"O{year}-00002"
    assert first.status == OrderStatus.DRAFT and first.owner == rep and first.version == 1
    svc.order_cancel(actor=rep, order=second)
    assert f.order(rep).number == f"O{year}-00003"


def test_totals_are_exact_and_rounded_per_line(rep):
    order = f.order(
        rep,
        lines=[
            f.line(quantity="3", unit_price="0.10", tax_rate="19"),
            f.line(
                description="Cable", quantity="1.5", unit_price="33.33", discount_percent="12.5", tax_rate="7"
            ),
        ],
    )
    # 0.30 + tax 0.057 -> 0.06; 49.995 x 0.875 = 43.745625 -> 43.75, tax 3.0625 -> 3.06
    assert order.subtotal == D("50.30") and order.discount_total == D("6.25")
    assert order.tax_total == D("3.12") and order.total == D("47.17")
    assert isinstance(order.total, Decimal)


def test_bad_input_is_refused_with_every_message_at_once(rep):
    with pytest.raises(ValidationError) as caught:
        f.order(
            rep,
            lines=[
                f.line(quantity="-2"),
                f.line(unit_price="10.005"),
                f.line(currency="USD"),
                f.line(quantity="1.0001"),
            ],
        )
    errors = caught.value.message_dict
    assert "more than zero" in errors["lines.0.quantity"][0]
    assert "2 decimal places for EUR" in errors["lines.1.unit_price"][0]
    assert "Currency mismatch" in errors["lines.2.currency"][0]
    assert "three decimal" in errors["lines.3.quantity"][0]
    assert not Order.objects.exists()


def test_whole_yen_only(rep):
    with pytest.raises(ValidationError) as caught:
        f.order(rep, currency="JPY", lines=[f.line(unit_price="100.5")])
    assert "no decimal places" in caught.value.message_dict["lines.0.unit_price"][0]


def test_an_archived_customer_gets_no_order(rep):
    customer = f.customer(owner=rep)
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ARCHIVED)
    with pytest.raises(ValidationError) as caught:
        f.order(rep, customer=customer)
    assert "archived" in caught.value.message_dict["customer"][0]
    assert not Order.objects.exists()


def test_draft_edits_lines_and_header_then_confirm_publishes(rep):
    order = f.order(rep)
    line = svc.order_line_add(
        actor=rep, order=order, data=f.line(description="Antenna", quantity="2", unit_price="5.00")
    )
    assert order.total == D("1010.00") and order.version == 2
    order = svc.order_line_remove(actor=rep, line=line)
    assert order.total == D("1000.00")
    svc.order_update(actor=rep, order=order, data={"notes": "Ring first"}, lines=[f.line(quantity="1")])
    assert order.total == D("100.00") and order.notes == "Ring first" and order.lines.count() == 1
    svc.order_confirm(actor=rep, order=order)
    assert order.status == OrderStatus.CONFIRMED
    entry = TimelineEntry.objects.get(kind="sales.order")
    assert order.number in entry.title and entry.subject_id == order.customer_id
    with pytest.raises(DomainError):
        svc.order_line_add(actor=rep, order=order, data=f.line())


def test_a_stale_version_is_a_conflict(rep):
    order = f.order(rep)
    loaded = order.version
    svc.order_update(actor=rep, order=Order.objects.get(pk=order.pk), data={"notes": "first"})
    with pytest.raises(ConflictError):
        svc.order_update(actor=rep, order=order, data={"notes": "second"}, expected_version=loaded)
    assert Order.objects.get(pk=order.pk).notes == "first"


def test_an_accepted_quote_becomes_one_order_with_its_lines_and_totals(rep):
    quote = f.accepted_quote(rep)
    order = svc.order_from_quote(actor=rep, quote=quote)
    assert order.quote == quote and order.customer == quote.customer and order.owner == rep
    assert [(line.description, line.quantity) for line in order.lines.all()] == [
        (line.description, line.quantity) for line in quote.lines.all()
    ]
    totals = totals_of(quote)
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        totals.subtotal,
        totals.discount_total,
        totals.tax_total,
        totals.total,
    )
    with pytest.raises(DomainError) as caught:
        svc.order_from_quote(actor=rep, quote=quote)
    assert caught.value.code == "quote_has_order"


def test_a_quote_not_accepted_is_refused(rep):
    from kith.sales.tests.quote_factories import free_line, quote

    draft = quote(rep, lines=[free_line()])
    with pytest.raises(DomainError) as caught:
        svc.order_from_quote(actor=rep, quote=draft)
    assert caught.value.code == "quote_not_accepted"


def test_cancel_takes_off_only_what_is_not_shipped(rep):
    order = f.confirmed_order(rep, lines=[f.line(quantity="10")])
    line = order.lines.get()
    svc.shipment_create(actor=rep, order=order, lines=[(line, "4")])
    svc.order_cancel(actor=rep, order=order)
    line.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert line.shipped_quantity == D("4") and line.cancelled_quantity == D("6")
    with pytest.raises(DomainError):
        svc.order_cancel(actor=rep, order=order)


def test_a_shipped_order_cannot_be_cancelled(rep):
    order = f.confirmed_order(rep, lines=[f.line(quantity="1")])
    svc.shipment_create(actor=rep, order=order, lines=[(order.lines.get(), "1")])
    with pytest.raises(DomainError):
        svc.order_cancel(actor=rep, order=order)


def test_visibility_rep_manager_peer(rep, boss):
    peer = f.rep("peer", manager=boss)
    order = f.order(rep)
    assert selectors.order_for(rep, order.pk) == order
    assert selectors.order_for(boss, order.pk) == order
    with pytest.raises(Http404):
        selectors.order_for(peer, order.pk)
    with pytest.raises(PermissionDenied):
        svc.order_update(actor=peer, order=order, data={"notes": "mine"})
    assert list(selectors.order_list(user=peer)) == []


def test_without_the_permission_nothing_is_listed():
    from kith.security.testing import make_user

    nobody = make_user("nobody")
    with pytest.raises(PermissionDenied):
        selectors.order_list(user=nobody)


def test_accepting_a_quote_can_make_its_order_in_the_same_step(rep):
    """What ``quote_accept`` calls (docs/sales-orders.md): an order when it can, else the reason."""
    from kith.sales.tests.quote_factories import free_line, quote
    from kith.security.testing import make_user

    made = svc.order_for_accepted_quote(actor=rep, quote=f.accepted_quote(rep))
    assert made is not None and made.quote is not None
    from kith.security.models import Role

    Role.objects.create(
        code="quotes-only",
        name="Quotes only",
        permissions=["customer.view", "quote.view", "quote.create", "quote.edit", "opportunity.view"],
    )
    plain = make_user("plain", "quotes-only")  # quotes, but no order permission
    accepted = f.accepted_quote(plain)
    assert svc.order_for_accepted_quote(actor=plain, quote=accepted) is None
    assert "permission" in accepted.order_not_made  # type: ignore[attr-defined]
    draft = quote(rep, lines=[free_line()])
    assert svc.order_for_accepted_quote(actor=rep, quote=draft) is None
    assert "accepted" in draft.order_not_made  # type: ignore[attr-defined]
