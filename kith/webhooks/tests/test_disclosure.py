"""A delivered customer event is a disclosure by the webhook's owner: one access-log entry, source webhook."""

from __future__ import annotations

from typing import Any

import pytest

from kith.audit.choices import AccessKind, Source
from kith.audit.models import AccessLog
from kith.parties import services as parties
from kith.parties.tests.factories import company
from kith.security.testing import make_user
from kith.webhooks import services
from kith.webhooks.choices import DeliveryStatus
from kith.webhooks.models import Webhook, WebhookDelivery
from kith.webhooks.services import delivery

pytestmark = pytest.mark.django_db


def _hook(actor: Any, receiver: Any, **data: Any) -> Webhook:
    webhook, _secret = services.webhook_create(
        actor=actor, data={"name": "ERP", "url": receiver.url, "event_types": ["*"], **data}
    )
    return webhook


def test_a_delivered_customer_event_is_in_the_access_log_as_the_owners(admin_user, receiver):
    lead = make_user("lead", "sales_manager")
    webhook = _hook(admin_user, receiver, owner=lead)
    services.webhook_ping(actor=admin_user, webhook=webhook)  # a test event shows no customer
    customer = company(lead, legal_name="Disclosed Ltd")
    assert delivery.deliver_due() == 1
    assert WebhookDelivery.objects.get(event_type="customer.created").status == DeliveryStatus.SUCCEEDED

    (entry,) = AccessLog.objects.all()
    assert (entry.user_id, entry.username, entry.kind, entry.source) == (
        lead.pk,
        "lead",
        AccessKind.EXPORT,
        Source.WEBHOOK,
    )
    assert (entry.customer_ids, entry.customer_count) == ([customer.pk], 1)
    assert entry.filters == f"webhook={webhook.pk}&event=customer.created"


def test_an_event_not_delivered_leaves_no_access_log_entry(admin_user, receiver):
    lead = make_user("lead", "sales_manager")
    other = make_user("other", "sales_manager")
    _hook(admin_user, receiver, owner=lead)
    customer = company(lead, legal_name="Moving Away Ltd")
    parties.customer_update(
        actor=admin_user, customer=customer, expected_version=customer.version, data={"owner": other.pk}
    )
    company(other, legal_name="Never Seen Ltd")  # not the lead's to see: no event at all
    assert delivery.deliver_due() == 1
    row = WebhookDelivery.objects.get()
    assert row.status == DeliveryStatus.SKIPPED  # by sending time the lead no longer sees the customer
    assert receiver.requests == []
    assert not AccessLog.objects.exists()


def test_a_failed_attempt_leaves_no_access_log_entry(admin_user, receiver):
    _hook(admin_user, receiver)
    receiver.statuses = [500]
    company(admin_user, legal_name="Refused Ltd")
    delivery.deliver_due()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING  # to be retried
    assert not AccessLog.objects.exists()


def test_delivered_interaction_and_relationship_events_disclose_their_customers(admin_user, receiver):
    from kith.parties.models import RelationshipType
    from kith.parties.tests.factories import person

    acme = company(admin_user, legal_name="Acme Works")
    anna = person(admin_user, given_name="Anna", family_name="Berg")
    _hook(admin_user, receiver, event_types=["interaction.created", "relationship.created"])
    parties.interaction_create(actor=admin_user, customer=anna, data={"kind": "call", "subject": "Hello"})
    employs = RelationshipType.objects.create(
        code="employs", name="employs", inverse_name="works for", from_kind="company", to_kind="person"
    )
    parties.relationship_add(actor=admin_user, type=employs, from_customer=acme, to_customer=anna)
    assert delivery.deliver_due() == 2
    logged = {
        e.filters.split("event=")[1]: e.customer_ids for e in AccessLog.objects.filter(source=Source.WEBHOOK)
    }
    assert logged == {"interaction.created": [anna.pk], "relationship.created": sorted([acme.pk, anna.pk])}


def test_a_webhook_taken_over_sends_nothing_made_for_its_previous_owner(admin_user, receiver):
    from kith.security.models import Role
    from kith.webhooks.services import webhooks as hooks

    Role.objects.create(code="hooks", name="Hooks", permissions=["webhook.view", "webhook.administer"])
    taker = make_user("taker", "hooks")  # manages webhooks, sees no customer
    webhook = _hook(admin_user, receiver)
    company(admin_user, legal_name="Seen By The Owner Ltd")
    assert delivery.deliver_due() == 1
    first = WebhookDelivery.objects.get()
    assert first.status == DeliveryStatus.SUCCEEDED and "Seen By The Owner" in first.body

    hooks.webhook_update(actor=taker, webhook=webhook, data={"url": receiver.url + "&mine=1"})
    webhook.refresh_from_db()
    assert webhook.owner_id == taker.pk
    assert WebhookDelivery.objects.get(pk=first.pk).body == ""  # the old body is gone
    again = hooks.delivery_redeliver(actor=taker, delivery_row=WebhookDelivery.objects.get(pk=first.pk))
    delivery.deliver_due()
    again.refresh_from_db()
    assert again.status == DeliveryStatus.SKIPPED  # made anew through the taker's eyes: not theirs to see
    assert len(receiver.requests) == 1  # only the original delivery reached a receiver
    assert list(AccessLog.objects.values_list("user_id", flat=True)) == [admin_user.pk]
