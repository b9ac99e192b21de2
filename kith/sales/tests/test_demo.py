"""The first start's sales demo: made through the services, once."""

import pytest
from django.core.management import call_command

from kith.sales.demo import load_sales_demo
from kith.sales.models import (
    ConsumptionLine,
    Lead,
    Opportunity,
    Order,
    Payment,
    Product,
    Quote,
    SalesTarget,
    StageChange,
)


@pytest.mark.django_db
def test_sales_demo_fills_every_sales_page_once():
    call_command("demo", customers=120, seed=5, verbosity=0)
    made = load_sales_demo(seed=5, opportunities=20)
    assert made["products"] == Product.objects.count() == 10
    assert made["leads"] == Lead.objects.count() > 0
    assert Lead.objects.exclude(owner=None).exists()  # the round-robin rule gave them owners
    assert made["opportunities"] == Opportunity.objects.count() == 20
    statuses = set(Opportunity.objects.values_list("status", flat=True))
    assert statuses == {"open", "won", "lost"}
    assert StageChange.objects.count() > 20  # creations and the closing moves
    assert made["quotes"] == Quote.objects.count() > 0
    assert all(q.total > 0 for q in Quote.objects.all())
    assert made["orders"] == 1 and made["targets"] > 0 and made["consumption_lines"] > 0
    order = Order.objects.get()
    assert order.status == "partial" and ConsumptionLine.objects.filter(source="order").exists()
    assert Payment.objects.count() == 1 and SalesTarget.objects.count() == made["targets"]
    assert load_sales_demo(seed=5) == {}  # a second run adds nothing
    assert Opportunity.objects.count() == 20
