"""A customer's timeline shows a sales record's entry only to those who may see that record: sharing the
customer does not open its deals, quotes, orders, contracts or invoices (pages and API alike)."""

from __future__ import annotations

import pytest

from kith.core import timeline
from kith.sales.tests import opportunity_factories as f
from kith.security import services as security
from kith.security.models import Role
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    boss = make_user("boss", "sales_manager")
    alice = make_user("alice", "sales_rep", manager=boss)
    bob = make_user("bob", "sales_rep", manager=boss)
    customer = f.customer(owner=alice, legal_name="Harbour Freight")
    deal = f.opportunity(alice, owner=alice, customer=customer, name="SECRET-DEAL", amount="987654.00")
    security.share(customer, user=bob)  # bob may read the customer, not alice's deal
    return boss, alice, bob, customer, deal


def _titles(customer, user):  # type: ignore[no-untyped-def]
    return [e.title for e in timeline.entries_for(customer, user=user).entries]


def test_the_deal_shows_to_its_owner_and_manager_not_to_whom_the_customer_is_shared(world, client):
    boss, alice, bob, customer, _deal = world
    assert any("SECRET-DEAL" in t for t in _titles(customer, alice))
    assert any("SECRET-DEAL" in t for t in _titles(customer, boss))
    assert not any("SECRET-DEAL" in t for t in _titles(customer, bob))
    assert any("SECRET-DEAL" in t for t in _titles(customer, None))  # the system (a subject's export)
    client.force_login(bob)
    for path in (
        f"/customers/{customer.customer_number}/",
        f"/customers/{customer.customer_number}/timeline/",
        f"/api/v1/customers/{customer.customer_number}/timeline/",
        f"/api/v1/customers/{customer.customer_number}/page/",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        body = response.content.decode()
        assert "SECRET-DEAL" not in body and "987654" not in body, path
    client.force_login(alice)
    assert "SECRET-DEAL" in client.get(f"/customers/{customer.customer_number}/").content.decode()


def test_without_the_permission_no_entry_of_the_type_shows(world):
    boss, _alice, _bob, customer, _deal = world
    Role.objects.create(code="customers-only", name="Customers only", permissions=["customer.view"])
    reader = make_user("reader", "customers-only", manager=boss)
    security.share(customer, user=reader)
    assert not any("SECRET-DEAL" in t for t in _titles(customer, reader))
