"""Shipments: partial and complete, the order's status following, over-shipping refused, and one
consumption line per shipped line (never twice)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kith.core.errors import DomainError
from kith.core.models import TimelineEntry
from kith.sales.models import ConsumptionLine, ConsumptionSource, OrderStatus, Shipment
from kith.sales.services import orders as svc
from kith.sales.tests import order_factories as f
from kith.sales.tests.factories import product

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def rep() -> Any:
    return f.rep()


def test_partial_then_complete_shipments_and_consumption_lines(rep):
    router = product(sku="RX-200", name="Router", list_price="50.00", currency="EUR")
    order = f.confirmed_order(
        rep,
        lines=[
            {"product": router.pk, "quantity": "10", "discount_percent": "10"},
            f.line(description="Cable", quantity="5", unit_price="3.33"),
        ],
    )
    router_line, cable_line = order.lines.order_by("position")
    first = svc.shipment_create(
        actor=rep,
        order=order,
        lines=[(router_line, "4"), (cable_line.pk, "5")],
        carrier="DHL",
        tracking="JD1",
    )
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert first.number == f"{order.number}-1"
    consumption = list(ConsumptionLine.objects.order_by("line_number"))
    assert [(c.line_number, c.quantity, c.unit_price, c.amount) for c in consumption] == [
        (1, D("4.000"), D("45.0000"), D("180.00")),
        (2, D("5.000"), D("3.3300"), D("16.65")),
    ]
    assert {(c.reference, c.kind, c.source, c.currency) for c in consumption} == {
        (order.number, "purchase", ConsumptionSource.ORDER, "EUR")
    }
    assert consumption[0].product == router and consumption[0].sku == "RX-200"
    assert consumption[0].occurred_on == timezone.localdate()

    second = svc.shipment_create(actor=rep, order=order, lines=[(router_line, "6")])
    assert order.status == OrderStatus.SHIPPED and second.number == f"{order.number}-2"
    assert ConsumptionLine.objects.count() == 3
    assert ConsumptionLine.objects.get(line_number=3).quantity == D("6")
    assert TimelineEntry.objects.filter(kind="sales.shipment").count() == 2
    router_line.refresh_from_db()
    assert router_line.shipped_quantity == D("10")
    with pytest.raises(DomainError):
        svc.shipment_create(actor=rep, order=order, lines=[(router_line, "1")])
    assert ConsumptionLine.objects.count() == 3


def test_over_shipping_is_refused_and_nothing_saved(rep):
    order = f.confirmed_order(rep, lines=[f.line(quantity="3")])
    line = order.lines.get()
    with pytest.raises(ValidationError) as caught:
        svc.shipment_create(actor=rep, order=order, lines=[(line, "2"), (line, "2")])
    assert "Only 3 " in caught.value.message_dict["lines.1.quantity"][0]
    with pytest.raises(ValidationError) as caught:
        svc.shipment_create(actor=rep, order=order, lines=[(line, "0")])
    assert "more than zero" in caught.value.message_dict["lines.0.quantity"][0]
    assert not Shipment.objects.exists() and not ConsumptionLine.objects.exists()
    line.refresh_from_db()
    assert line.shipped_quantity == 0 and order.status == OrderStatus.CONFIRMED


def test_a_draft_is_not_shipped_and_lines_of_other_orders_are_refused(rep):
    draft = f.order(rep)
    with pytest.raises(DomainError):
        svc.shipment_create(actor=rep, order=draft, lines=[(draft.lines.get(), "1")])
    order = f.confirmed_order(rep)
    with pytest.raises(ValidationError) as caught:
        svc.shipment_create(actor=rep, order=order, lines=[(draft.lines.get(), "1")])
    assert "lines.0.order_line" in caught.value.message_dict


def test_a_future_shipment_date_is_refused(rep):
    import datetime as dt

    order = f.confirmed_order(rep)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        svc.shipment_create(actor=rep, order=order, lines=[(order.lines.get(), "1")], shipped_on=tomorrow)
    assert "shipped_on" in caught.value.message_dict


def test_the_consumption_key_stops_a_second_recording(rep):
    """The consumption line's key (customer, order number, line number) is what a repeated push would hit:
    recording the same shipped line again adds nothing."""
    from kith.sales.services.consumption import consumption_add_many

    order = f.confirmed_order(rep)
    svc.shipment_create(actor=rep, order=order, lines=[(order.lines.get(), "2")])
    stored = ConsumptionLine.objects.get()
    again = consumption_add_many(
        actor=None,
        rows=[
            {
                "customer": order.customer,
                "occurred_on": stored.occurred_on,
                "description": stored.description,
                "quantity": stored.quantity,
                "unit_price": stored.unit_price,
                "currency": "EUR",
                "kind": "purchase",
                "reference": order.number,
                "line_number": 1,
            }
        ],
        source=ConsumptionSource.ORDER,
    )
    assert again.created == [] and len(again.existing) == 1
    assert ConsumptionLine.objects.count() == 1
