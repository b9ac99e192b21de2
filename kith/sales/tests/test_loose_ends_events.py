"""Contracts, invoices and payments are webhook events like orders: written with the change for owners who
may view the type, the body made at sending as the owner then sees the record (nothing for one who does
not)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from kith.sales.services import billing, contracts
from kith.sales.tests import order_factories as f
from kith.security.testing import make_user
from kith.webhooks import events
from kith.webhooks import services as webhooks
from kith.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
URL = "http://127.0.0.1:9/hooks"
NEW_TYPES = {
    "contract.created",
    "contract.updated",
    "contract.deleted",
    "invoice.created",
    "invoice.updated",
    "payment.created",
}


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> Iterator[None]:
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True
    events.forget()
    yield
    events.forget()


@pytest.fixture
def boss() -> Any:
    return f.manager()


@pytest.fixture
def rep(boss: Any) -> Any:
    return f.rep(manager=boss)


def _subscribe(admin: Any, owner: Any, types: list[str]) -> None:
    webhooks.webhook_create(
        actor=admin, data={"name": owner.username, "url": URL, "event_types": types, "owner": owner}
    )


def _deliveries() -> list[tuple[str, str, str]]:
    return sorted(WebhookDelivery.objects.values_list("webhook__name", "event_type", "subject_id"))


def _render(code: str, model: str, pk: int, owner: Any) -> Any:
    return events.event_type(code).render(owner, events.EventRef(code, model, str(pk)))


def test_the_event_types_are_registered():
    codes = {t.code for t in events.event_types()}
    assert codes >= NEW_TYPES
    assert "invoice.deleted" not in codes and "payment.updated" not in codes  # never changed nor deleted
    assert events.label_of("payment.created") == "Payment recorded"


def test_a_contract_is_created_changed_and_deleted_for_its_subscribers(admin_user, rep, boss):
    peer = f.rep("peer", manager=boss)
    for owner in (boss, peer):
        _subscribe(admin_user, owner, ["contract.created", "contract.updated", "contract.deleted"])
    today = timezone.localdate()
    made = contracts.contract_create(
        actor=rep,
        data={
            "customer": f.customer(owner=rep),
            "title": "Support 2027",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=365)).isoformat(),
            "value": "12000.00",
            "currency": "EUR",
        },
    )
    # both owners hold contract.view: the rows are written with the change, the body decides at sending
    assert _deliveries() == [
        ("boss", "contract.created", str(made.pk)),
        ("peer", "contract.created", str(made.pk)),
    ]
    shown = _render("contract.created", "sales.contract", made.pk, boss)
    assert (
        shown is not None and shown.object["title"] == "Support 2027" and shown.object["value"] == "12000.00"
    )
    assert _render("contract.created", "sales.contract", made.pk, peer) is None  # a peer's: nothing sent
    contract_id = made.pk
    contracts.contract_delete(actor=boss, contract=made)
    # one transaction (the test's): the deletion absorbs the creation
    assert _deliveries() == [
        ("boss", "contract.deleted", str(contract_id)),
        ("peer", "contract.deleted", str(contract_id)),
    ]
    gone = _render("contract.deleted", "sales.contract", contract_id, boss)
    assert gone is not None and gone.object == {"id": contract_id}


def test_an_invoice_and_its_payment_are_events(admin_user, rep, boss):
    blind = make_user("blind")  # no role: may not view invoices
    _subscribe(admin_user, boss, ["invoice.created", "invoice.updated", "payment.created"])
    _subscribe(admin_user, blind, ["*"])
    order = f.confirmed_order(rep, lines=[f.line(quantity="2", unit_price="50.00")])
    WebhookDelivery.objects.all().delete()
    invoice = billing.invoice_from_order(actor=rep, order=order)
    payment = billing.payment_create(
        actor=rep, data={"invoice": invoice.pk, "amount": "40.00", "method": "bank_transfer"}
    )
    # the payment's change of the invoice (paid, status) folds into the invoice's creation
    assert _deliveries() == [
        ("boss", "invoice.created", str(invoice.pk)),
        ("boss", "payment.created", str(payment.pk)),
    ]
    shown = _render("invoice.created", "sales.invoice", invoice.pk, boss)
    assert shown is not None and shown.object["number"] == invoice.number
    assert shown.object["paid"] == "40.00" and shown.object["status"] == "partial"
    paid = _render("payment.created", "sales.payment", payment.pk, boss)
    assert paid is not None and paid.object["invoice"] == invoice.pk and paid.object["amount"] == "40.00"
    assert _render("payment.created", "sales.payment", payment.pk, blind) is None


def test_voiding_an_invoice_is_an_update(admin_user, rep, boss):
    invoice = billing.invoice_create(
        actor=rep, data={"customer": f.customer(owner=rep), "total": "80.00", "currency": "EUR"}
    )
    _subscribe(admin_user, boss, ["invoice.updated"])
    billing.invoice_void(actor=rep, invoice=invoice)
    assert _deliveries() == [("boss", "invoice.updated", str(invoice.pk))]
    shown = _render("invoice.updated", "sales.invoice", invoice.pk, boss)
    assert shown is not None and shown.object["status"] == "void"
