"""Products and price lists are webhook events, written with the change, for owners who may view them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kith.sales import services
from kith.sales.tests.factories import price_list, product
from kith.security.testing import make_user
from kith.webhooks import events
from kith.webhooks import services as webhooks
from kith.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
TYPES = [f"{noun}.{verb}" for noun in ("product", "price_list") for verb in ("created", "updated", "deleted")]


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> Iterator[None]:
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True
    events.forget()
    yield
    events.forget()


def test_the_event_types_are_registered():
    assert set(TYPES) <= {t.code for t in events.event_types()}
    assert events.label_of("price_list.updated") == "Price list changed"


def test_changes_are_events_for_owners_who_may_view_them(admin_user):
    url = "http://127.0.0.1:9/hooks"
    webhooks.webhook_create(actor=admin_user, data={"name": "ERP", "url": url, "event_types": TYPES})
    blind = make_user("blind")  # no role: may not view products
    webhooks.webhook_create(
        actor=admin_user, data={"name": "Blind", "url": url, "event_types": ["*"], "owner": blind}
    )
    made = product()
    services.product_update(actor=None, product=made, data={"name": "SIM (nano)"})
    listed = price_list(items=[{"product": made, "unit_price": "9"}])
    listed_id = listed.pk
    services.price_list_delete(actor=None, price_list=listed)
    # one transaction (the test's): the update folds into the creation, the deletion absorbs both
    rows = list(
        WebhookDelivery.objects.order_by("id").values_list("webhook__name", "event_type", "subject_id")
    )
    assert rows == [("ERP", "product.created", str(made.pk)), ("ERP", "price_list.deleted", str(listed_id))]
    gone = WebhookDelivery.objects.get(event_type="price_list.deleted").payload
    assert gone is not None and gone["data"]["object"] == {
        "id": listed_id,
        "name": "Wholesale",
        "currency": "EUR",
    }
    # the body of the others is made when sent, as the owner then sees the record
    ref = events.EventRef("product.created", "sales.product", str(made.pk))
    shown = events.event_type("product.created").render(admin_user, ref)
    assert (
        shown is not None and shown.object["name"] == "SIM (nano)" and shown.object["list_price"] == "10.00"
    )
    assert events.event_type("product.created").render(blind, ref) is None


def test_owned_sales_records_are_events_for_owners_who_may_see_that_record(admin_user):
    from kith.sales.tests.opportunity_factories import opportunity

    boss = make_user("boss", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_rep", manager=boss)
    url = "http://127.0.0.1:9/hooks"
    for owner in (boss, peer):
        webhooks.webhook_create(
            actor=admin_user,
            data={"name": owner.username, "url": url, "event_types": ["opportunity.created"], "owner": owner},
        )
    deal = opportunity(actor=rep, owner=rep)
    rows = list(WebhookDelivery.objects.values_list("webhook__name", "event_type", "subject_id"))
    # both owners hold opportunity.view, so both deliveries are written; the body decides at sending
    assert sorted(rows) == [
        ("boss", "opportunity.created", str(deal.pk)),
        ("peer", "opportunity.created", str(deal.pk)),
    ]
    ref = events.EventRef("opportunity.created", "sales.opportunity", str(deal.pk))
    shown = events.event_type("opportunity.created").render(boss, ref)
    assert shown is not None and shown.object["id"] == deal.pk and shown.object["name"] == deal.name
    assert events.event_type("opportunity.created").render(peer, ref) is None  # a peer's deal: nothing sent
    assert {f"{n}.{v}" for n in ("lead", "quote", "order") for v in ("created", "updated", "deleted")} <= {
        t.code for t in events.event_types()
    }
