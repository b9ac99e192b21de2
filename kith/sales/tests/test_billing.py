"""Invoices and payments: from an order or by hand, payments and the invoice status, overpayment, the
outstanding balance per currency, voiding, visibility."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kith.core.errors import DomainError
from kith.core.models import TimelineEntry
from kith.parties.choices import CustomerStatus
from kith.parties.models import Customer
from kith.sales.models import Invoice, InvoiceStatus, Payment
from kith.sales.selectors import billing as selectors
from kith.sales.services import billing as svc
from kith.sales.tests import order_factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def boss() -> Any:
    return f.manager()


@pytest.fixture
def rep(boss: Any) -> Any:
    return f.rep(manager=boss)


def test_invoice_from_order_partial_payment_and_balance(rep):
    order = f.confirmed_order(rep, lines=[f.line(quantity="3", unit_price="100.00", tax_rate="10")])
    invoice = svc.invoice_from_order(actor=rep, order=order)
    assert invoice.total == D("330.00") and invoice.currency == "EUR" and invoice.status == InvoiceStatus.OPEN
    assert invoice.owner == rep and invoice.order == order
    with pytest.raises(DomainError):
        svc.invoice_from_order(actor=rep, order=order)
    svc.payment_create(actor=rep, data={"invoice": invoice.pk, "amount": "100.00", "method": "bank_transfer"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID and invoice.paid == D("100.00")
    assert svc.outstanding_balance(order.customer) == {"EUR": D("230.00")}
    svc.payment_create(actor=rep, data={"invoice": invoice.pk, "amount": "230", "method": "card"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert svc.outstanding_balance(order.customer) == {"EUR": D("0.00")}
    kinds = list(
        TimelineEntry.objects.filter(kind__in=["sales.invoice", "sales.payment"]).values_list(
            "kind", flat=True
        )
    )
    assert sorted(kinds) == ["sales.invoice", "sales.payment", "sales.payment"]


def test_overpayment_is_refused_unless_allowed_and_becomes_credit(rep):
    customer = f.customer(owner=rep)
    invoice = svc.invoice_create(actor=rep, data={"customer": customer, "total": "50.00", "currency": "EUR"})
    with pytest.raises(ValidationError) as caught:
        svc.payment_create(actor=rep, data={"invoice": invoice.pk, "amount": "60.00", "method": "cash"})
    assert "still owes 50.00 EUR" in caught.value.message_dict["amount"][0]
    svc.payment_create(
        actor=rep, data={"invoice": invoice.pk, "amount": "60.00", "method": "cash"}, allow_overpayment=True
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert svc.outstanding_balance(customer) == {"EUR": D("-10.00")}


def test_balances_are_per_currency_and_payments_on_account_count(rep):
    customer = f.customer(owner=rep)
    svc.invoice_create(actor=rep, data={"customer": customer, "total": "100.00", "currency": "EUR"})
    svc.invoice_create(actor=rep, data={"customer": customer, "total": "5000", "currency": "JPY"})
    void = svc.invoice_create(actor=rep, data={"customer": customer, "total": "999.00", "currency": "EUR"})
    svc.invoice_void(actor=rep, invoice=void)
    svc.payment_create(
        actor=rep, data={"customer": customer, "amount": "20.00", "currency": "EUR", "method": "other"}
    )
    assert svc.outstanding_balance(customer) == {"EUR": D("80.00"), "JPY": D("5000.00")}


def test_bad_payments_are_refused_with_every_message(rep):
    customer = f.customer(owner=rep)
    invoice = svc.invoice_create(actor=rep, data={"customer": customer, "total": "50.00", "currency": "EUR"})
    with pytest.raises(ValidationError) as caught:
        svc.payment_create(
            actor=rep, data={"invoice": invoice.pk, "amount": "0.001", "currency": "USD", "method": "gold"}
        )
    errors = caught.value.message_dict
    assert "Currency mismatch" in errors["currency"][0]
    assert "method" in errors
    with pytest.raises(ValidationError) as caught:
        svc.payment_create(actor=rep, data={"invoice": invoice.pk, "amount": "-5", "method": "cash"})
    assert "amount" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        svc.payment_create(actor=rep, data={"invoice": invoice.pk, "amount": "10.005", "method": "cash"})
    assert "decimal places for EUR" in caught.value.message_dict["amount"][0]
    assert not Payment.objects.exists()


def test_invoices_refuse_archived_customers_and_mismatched_orders(rep):
    customer = f.customer(owner=rep)
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ARCHIVED)
    with pytest.raises(ValidationError) as caught:
        svc.invoice_create(actor=rep, data={"customer": customer, "total": "1.00", "currency": "EUR"})
    assert "archived" in caught.value.message_dict["customer"][0]
    order = f.confirmed_order(rep)
    with pytest.raises(ValidationError) as caught:
        svc.invoice_create(
            actor=rep, data={"customer": order.customer, "order": order.pk, "total": "1", "currency": "USD"}
        )
    assert "Currency mismatch" in caught.value.message_dict["currency"][0]
    with pytest.raises(DomainError):
        svc.invoice_from_order(actor=rep, order=f.order(rep))  # a draft
    assert not Invoice.objects.exists()


def test_an_invoice_with_payments_is_not_voided(rep):
    invoice = svc.invoice_create(
        actor=rep, data={"customer": f.customer(owner=rep), "total": "5", "currency": "EUR"}
    )
    svc.payment_create(actor=rep, data={"invoice": invoice, "amount": "1", "method": "cash"})
    with pytest.raises(DomainError):
        svc.invoice_void(actor=rep, invoice=invoice)


def test_visibility_and_balance_selector(rep, boss):
    peer = f.rep("peer", manager=boss)
    customer = f.customer(owner=rep)
    invoice = svc.invoice_create(actor=rep, data={"customer": customer, "total": "5", "currency": "EUR"})
    payment = svc.payment_create(actor=rep, data={"invoice": invoice, "amount": "1", "method": "cash"})
    assert selectors.invoice_for(boss, invoice.pk) == invoice
    assert list(selectors.payments_for(boss)) == [payment]
    with pytest.raises(Http404):
        selectors.invoice_for(peer, invoice.pk)
    assert list(selectors.payments_for(peer)) == []
    with pytest.raises(ValidationError):
        svc.payment_create(actor=peer, data={"invoice": invoice, "amount": "1", "method": "cash"})
    found, balance = selectors.customer_balance(user=rep, customer_number=customer.customer_number)
    assert found == customer and balance == {"EUR": D("4.00")}
    with pytest.raises(Http404):
        selectors.customer_balance(user=peer, customer_number=customer.customer_number)
    from kith.security.testing import make_user

    with pytest.raises(PermissionDenied):
        selectors.customer_balance(user=make_user("plain"), customer_number=customer.customer_number)
