"""The timeline extension point: any app publishes; pages read newest first with keyset pagination."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kith.core import timeline
from kith.parties import services
from kith.parties.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_kind():
    kind = timeline.register_kind("tests.order", "Order", icon="$")
    yield kind
    timeline._kinds.pop("tests.order", None)


def test_other_modules_publish_to_the_same_timeline(user, order_kind):
    customer = person(user)
    services.interaction_create(
        actor=user,
        customer=customer,
        data={
            "kind": "call",
            "subject": "Asked for a quote",
            "occurred_at": timezone.now() - dt.timedelta(days=1),
        },
    )
    timeline.publish(subject=customer, kind="tests.order", occurred_at=timezone.now(), title="Order 42")
    page = timeline.entries_for(customer, user=None)
    assert [e.title for e in page.entries] == ["Order 42", "Asked for a quote"]
    assert [e.title for e in timeline.entries_for(customer, user=None, kinds=["parties.call"]).entries] == [
        "Asked for a quote"
    ]


def test_unregistered_kind_is_refused(user):
    with pytest.raises(ValueError, match="not registered"):
        timeline.publish(subject=person(user), kind="nope", occurred_at=timezone.now(), title="x")


def test_keyset_pages_have_no_gaps_or_overlaps(user):
    customer = person(user)
    same_time = timezone.now()
    for i in range(7):
        services.interaction_create(
            actor=user, customer=customer, data={"kind": "note", "subject": f"n{i}", "occurred_at": same_time}
        )
    seen, cursor = [], None
    while True:
        page = timeline.entries_for(customer, user=None, cursor=cursor, limit=3)
        seen += [e.title for e in page.entries]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == [f"n{i}" for i in range(7)]
    assert len(seen) == 7


def test_editing_master_data_never_rewrites_business_records(user):
    customer = person(user, family_name="Old")
    visit = services.interaction_create(
        actor=user, customer=customer, data={"kind": "visit", "subject": "Visit"}
    )
    services.customer_update(
        actor=user, customer=customer, expected_version=None, data={"family_name": "New"}
    )
    visit.refresh_from_db()
    assert visit.subject == "Visit" and visit.version == 1
    kinds = [e.kind for e in timeline.entries_for(customer, user=None).entries]
    assert kinds == ["parties.info_change", "parties.visit"]


def test_interaction_edit_updates_its_timeline_entry_and_checks_version(user):
    from kith.core.errors import ConflictError

    customer = person(user)
    visit = services.interaction_create(
        actor=user, customer=customer, data={"kind": "visit", "subject": "Visit"}
    )
    services.interaction_update(
        actor=user, interaction=visit, expected_version=1, data={"subject": "Site visit"}
    )
    assert timeline.entries_for(customer, user=None).entries[0].title == "Site visit"
    with pytest.raises(ConflictError):
        services.interaction_update(
            actor=user, interaction=visit, expected_version=1, data={"subject": "Stale"}
        )
    services.interaction_delete(actor=user, interaction=visit)
    assert timeline.entries_for(customer, user=None).entries == []


def test_archived_customer_takes_no_new_business(user):
    from kith.core.errors import DomainError

    customer = person(user)
    services.customer_set_status(actor=user, customer=customer, status="archived", expected_version=None)
    with pytest.raises(DomainError):
        services.interaction_create(actor=user, customer=customer, data={"kind": "visit", "subject": "x"})
