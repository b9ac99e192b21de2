"""Recording consumption lines: amounts, kinds, field errors all at once, idempotent re-push, permissions,
one audit entry per batch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.audit.models import AuditEntry
from kith.parties.services import customers as customer_services
from kith.parties.tests.factories import person
from kith.sales.models import ConsumptionKind, ConsumptionLine, ConsumptionSource
from kith.sales.services.consumption import consumption_add, consumption_add_many, consumption_delete
from kith.sales.tests.factories import product
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


def line(customer: Any, **data: Any) -> dict[str, Any]:
    return {
        "customer": customer.customer_number,
        "occurred_on": "2024-03-05",
        "sku": "85123A",
        "description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "quantity": "6",
        "unit_price": "2.55",
        "currency": "GBP",
        **data,
    }


def test_amount_is_quantity_times_price_rounded_to_the_currency(user):
    customer = person(actor=user)
    added = consumption_add(actor=user, data=line(customer, quantity="3", unit_price="0.0015"))
    assert added.amount == Decimal("0.00") and added.unit_price == Decimal("0.0015")
    added = consumption_add(actor=user, data=line(customer, quantity="7", unit_price="1.245"))
    assert added.amount == Decimal("8.72")  # 8.715 rounded half up
    assert added.kind == ConsumptionKind.PURCHASE and added.source == ConsumptionSource.MANUAL
    jpy = consumption_add(actor=user, data=line(customer, quantity="3", unit_price="33.5", currency="jpy"))
    assert jpy.amount == Decimal("101") and jpy.currency == "JPY"  # 100.5 rounded to whole yen


def test_negative_quantity_is_a_return_and_a_product_fills_code_and_currency(user):
    customer = person(actor=user)
    sim = product(sku="SIM-100", name="SIM card", currency="EUR")
    added = consumption_add(
        actor=user,
        data={
            "customer": customer.customer_number,
            "occurred_on": "2024-01-02",
            "product": sim.pk,
            "quantity": "-2",
            "unit_price": "10",
        },
    )
    assert added.kind == ConsumptionKind.RETURN and added.amount == Decimal("-20.00")
    assert (added.sku, added.description, added.currency, added.product_id) == (
        "SIM-100",
        "SIM card",
        "EUR",
        sim.pk,
    )
    by_code = consumption_add(actor=user, data=line(customer, sku="sim-100", description="", currency=""))
    assert by_code.product_id == sim.pk and by_code.currency == "EUR" and by_code.sku == "sim-100"


def test_every_field_error_at_once(user):
    customer = person(actor=user)
    with pytest.raises(ValidationError) as caught:
        consumption_add(
            actor=user,
            data=line(
                customer,
                occurred_on="2024-02-30",
                quantity="1.2345",
                unit_price="-1",
                currency="XYZ",
                kind="gift",
                period_start="2024-02-01",
                period_end="2024-01-01",
            ),
        )
    errors = caught.value.message_dict
    assert set(errors) == {"occurred_on", "quantity", "unit_price", "currency", "kind", "period_end"}
    assert "negative" in errors["unit_price"][0]
    with pytest.raises(ValidationError) as caught:
        consumption_add(actor=user, data=line(customer, unit_price="2.55001"))
    assert "4 decimal places" in caught.value.message_dict["unit_price"][0]
    with pytest.raises(ValidationError) as caught:
        consumption_add(actor=user, data=line(customer, kind="return", quantity="2"))
    assert "negative quantity" in caught.value.message_dict["quantity"][0]
    assert not ConsumptionLine.objects.exists()


def test_archived_and_unknown_customers_are_refused(user):
    customer = person(actor=user)
    customer_services.customer_update(
        actor=user, customer=customer, data={"status": "archived"}, expected_version=customer.version
    )
    with pytest.raises(ValidationError) as caught:
        consumption_add(actor=user, data=line(customer))
    assert "archived" in caught.value.message_dict["customer"][0]
    with pytest.raises(ValidationError) as caught:
        consumption_add(actor=user, data={**line(customer), "customer": "NOPE-1"})
    assert "No customer you may see" in caught.value.message_dict["customer"][0]


def test_a_rep_cannot_record_for_a_customer_they_do_not_reach(user):
    mine = person(actor=user)
    rep = make_user("rep", "sales_rep")
    with pytest.raises(ValidationError) as caught:
        consumption_add(actor=rep, data=line(mine))
    assert "No customer you may see" in caught.value.message_dict["customer"][0]
    viewer = make_user("viewer", "viewer")
    with pytest.raises(PermissionDenied):
        consumption_add(actor=viewer, data=line(mine))


def test_batch_is_all_or_nothing_with_errors_per_row(user):
    customer = person(actor=user)
    rows = [line(customer), line(customer, unit_price="abc"), line(customer, quantity="0")]
    with pytest.raises(ValidationError) as caught:
        consumption_add_many(actor=user, rows=rows, reference="536365")
    assert set(caught.value.message_dict) == {"lines.1.unit_price", "lines.2.quantity"}
    assert not ConsumptionLine.objects.exists()


def test_repushing_the_same_invoice_creates_nothing_and_one_audit_entry_per_batch(user):
    customer = person(actor=user)
    rows = [
        line(customer),
        line(customer, sku="71053", description="WHITE METAL LANTERN", unit_price="3.39"),
        line(customer, sku="POST", description="POSTAGE", kind="non_product", quantity="1", unit_price="18"),
    ]
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    first = consumption_add_many(actor=user, rows=rows, reference="536365")
    assert len(first.created) == 3 and not first.existing
    assert [x.line_number for x in first.created] == [1, 2, 3]
    batch = list(AuditEntry.objects.filter(seq__gt=before, object_type="sales.consumptionline"))
    assert len(batch) == 1 and batch[0].action == "import"
    assert batch[0].changes["lines"] == 3 and batch[0].changes["amounts"] == {"GBP": "53.64"}
    again = consumption_add_many(actor=user, rows=rows, reference="536365")
    assert not again.created and len(again.existing) == 3
    assert ConsumptionLine.objects.count() == 3
    changed = [*rows[:1], {**rows[1], "unit_price": "3.40"}, rows[2]]
    with pytest.raises(ValidationError) as caught:
        consumption_add_many(actor=user, rows=changed, reference="536365")
    assert "already recorded with other values" in caught.value.message_dict["lines.1.reference"][0]
    # a single line with a reference is idempotent too (line 1 when not given)
    single = consumption_add(actor=user, data=line(customer, reference="536365"))
    assert single.pk == first.created[0].pk and ConsumptionLine.objects.count() == 3


def test_the_same_line_twice_in_a_batch_is_refused(user):
    customer = person(actor=user)
    with pytest.raises(ValidationError) as caught:
        consumption_add_many(
            actor=user, rows=[line(customer, line_number=1), line(customer, line_number=1)], reference="A1"
        )
    assert "twice" in caught.value.message_dict["lines.1.line_number"][0]


def test_delete_needs_the_permission_and_the_customer_within_reach(user):
    customer = person(actor=user)
    added = consumption_add(actor=user, data=line(customer))
    rep = make_user("rep", "sales_rep")
    with pytest.raises(PermissionDenied):
        consumption_delete(actor=rep, line=added)
    consumption_delete(actor=user, line=added)
    assert not ConsumptionLine.objects.exists()


def test_the_subject_export_rows(user):
    from kith.sales.selectors.consumption import subject_rows

    customer = person(actor=user)
    consumption_add(actor=user, data=line(customer, reference="536365"))
    [row] = list(subject_rows(customer))
    assert row["sku"] == "85123A" and row["amount"] == "15.30" and row["occurred_on"] == "2024-03-05"
    assert row["line_number"] == 1
