"""Opportunity services: create with its defaults and checks, update with optimistic locking, moves
between stages (history, status, reasons, approvals), delete; pipeline administration."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.core.errors import ConflictError
from kith.core.models import TimelineEntry
from kith.parties.choices import CustomerStatus
from kith.sales.choices import OpportunityStatus
from kith.sales.models import CloseReason, Opportunity, StageChange
from kith.sales.services import opportunities as svc
from kith.sales.tests import opportunity_factories as f
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():  # type: ignore[no-untyped-def]
    boss = make_user("boss", "sales_manager")
    return make_user("rep", "sales_rep", manager=boss)


def test_create_defaults_history_and_timeline(rep) -> None:  # type: ignore[no-untyped-def]
    customer = f.customer(owner=rep)
    deal = svc.opportunity_create(
        actor=rep, data={"customer": customer, "name": "Fibre", "amount": "1200.50", "currency": "eur"}
    )
    assert deal.owner == rep
    assert deal.pipeline == f.pipeline()
    assert deal.stage.name == "Qualification"
    assert deal.status == OpportunityStatus.OPEN
    assert deal.probability == 10
    assert deal.amount == Decimal("1200.50") and deal.currency == "EUR"
    change = StageChange.objects.get(opportunity=deal)
    assert change.from_stage is None and change.to_stage == deal.stage
    entry = TimelineEntry.objects.get(kind="sales.opportunity", subject_id=customer.pk)
    assert "Fibre" in entry.title


def test_create_by_the_system_with_default_currency(settings) -> None:  # type: ignore[no-untyped-def]
    settings.KITH_DEFAULT_CURRENCY = "CNY"
    deal = svc.opportunity_create(actor=None, data={"customer": f.customer(), "name": "Deal"})
    assert deal.currency == "CNY" and deal.owner is None and deal.amount == 0


def test_create_bad_input_every_error_at_once(rep) -> None:  # type: ignore[no-untyped-def]
    other = f.pipeline()
    from kith.sales.models import Pipeline, Stage

    second = Pipeline.objects.create(name="Renewals")
    foreign = Stage.objects.create(pipeline=second, name="Open", kind="open")
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_create(
            actor=rep,
            data={
                "customer": f.customer(owner=rep),
                "name": "",
                "amount": "-5",
                "currency": "EUR",
                "discount_percent": "101",
                "pipeline": other,
                "stage": foreign.pk,
            },
        )
    errors = caught.value.message_dict
    assert set(errors) == {"name", "amount", "discount_percent", "stage"}
    assert Opportunity.objects.count() == 0


def test_three_decimals_in_eur_and_none_in_jpy(rep) -> None:  # type: ignore[no-untyped-def]
    customer = f.customer(owner=rep)
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_create(
            actor=rep, data={"customer": customer, "name": "x", "amount": "1.005", "currency": "EUR"}
        )
    assert "amount" in caught.value.message_dict
    with pytest.raises(ValidationError):
        svc.opportunity_create(
            actor=rep, data={"customer": customer, "name": "x", "amount": "1.5", "currency": "JPY"}
        )


def test_archived_and_invisible_customers_are_refused(rep) -> None:  # type: ignore[no-untyped-def]
    archived = f.customer(owner=rep, status=CustomerStatus.ARCHIVED)
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_create(actor=rep, data={"customer": archived, "name": "x", "currency": "EUR"})
    assert "archived" in caught.value.message_dict["customer"][0]
    peer = make_user("peer", "sales_rep")
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_create(
            actor=peer, data={"customer": f.customer(owner=rep), "name": "x", "currency": "EUR"}
        )
    assert "customer" in caught.value.message_dict


def test_viewer_may_not_create(rep) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("viewer", "viewer")
    with pytest.raises(PermissionDenied):
        svc.opportunity_create(actor=viewer, data={"customer": f.customer(), "name": "x", "currency": "EUR"})


def test_update_with_a_stale_version_is_a_conflict(rep) -> None:  # type: ignore[no-untyped-def]
    deal = f.opportunity(rep)
    svc.opportunity_update(actor=rep, opportunity=deal, data={"next_step": "Call"}, expected_version=1)
    assert deal.version == 2
    stale = Opportunity.objects.get(pk=deal.pk)
    stale.version = 1
    with pytest.raises(ConflictError):
        svc.opportunity_update(actor=rep, opportunity=stale, data={"name": "Other"}, expected_version=1)
    assert Opportunity.objects.get(pk=deal.pk).name == deal.name


def test_update_refuses_a_stage_change(rep) -> None:  # type: ignore[no-untyped-def]
    deal = f.opportunity(rep)
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_update(actor=rep, opportunity=deal, data={"stage": f.stage("Won").pk})
    assert "stage" in caught.value.message_dict


def test_move_records_history_status_and_reasons(rep) -> None:  # type: ignore[no-untyped-def]
    deal = f.opportunity(rep)
    svc.opportunity_move(actor=rep, opportunity=deal, stage=f.stage("Needs analysis"), expected_version=1)
    assert deal.probability == 25 and deal.version == 2
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_move(actor=rep, opportunity=deal, stage=f.stage("Lost"), expected_version=2)
    assert "close_reason" in caught.value.message_dict
    won_reason = CloseReason.objects.get(name="Best price")
    with pytest.raises(ValidationError):  # a won reason for a lost deal
        svc.opportunity_move(
            actor=rep, opportunity=deal, stage=f.stage("Lost"), expected_version=2, close_reason=won_reason
        )
    lost = CloseReason.objects.get(name="No budget")
    svc.opportunity_move(
        actor=rep,
        opportunity=deal,
        stage=f.stage("Lost"),
        expected_version=2,
        close_reason=lost.pk,
        close_note="Later",
    )
    deal.refresh_from_db()
    assert deal.status == OpportunityStatus.LOST and deal.probability == 0
    assert deal.closed_at is not None and deal.close_reason == lost and deal.close_note == "Later"
    svc.opportunity_move(actor=rep, opportunity=deal, stage=f.stage("Qualification"), expected_version=3)
    deal.refresh_from_db()
    assert deal.status == OpportunityStatus.OPEN and deal.closed_at is None and deal.close_reason is None
    moves = list(
        StageChange.objects.filter(opportunity=deal).values_list("to_stage__name", "seconds_in_previous")
    )
    assert [m[0] for m in moves] == ["Qualification", "Needs analysis", "Lost", "Qualification"]
    assert all(seconds is not None and seconds >= 0 for _, seconds in moves[1:])


def test_move_with_a_stale_version_is_a_conflict(rep) -> None:  # type: ignore[no-untyped-def]
    deal = f.opportunity(rep)
    with pytest.raises(ConflictError):
        svc.opportunity_move(actor=rep, opportunity=deal, stage=f.stage("Needs analysis"), expected_version=7)


def test_move_to_a_stage_of_another_pipeline_is_refused(rep) -> None:  # type: ignore[no-untyped-def]
    from kith.sales.models import Pipeline, Stage

    other = Stage.objects.create(pipeline=Pipeline.objects.create(name="Renewals"), name="Open")
    deal = f.opportunity(rep)
    with pytest.raises(ValidationError) as caught:
        svc.opportunity_move(actor=rep, opportunity=deal, stage=other.pk, expected_version=1)
    assert "stage" in caught.value.message_dict


def test_delete_retracts_the_timeline_entry(rep) -> None:  # type: ignore[no-untyped-def]
    deal = f.opportunity(rep)
    svc.opportunity_delete(actor=make_user("chief", "sales_manager"), opportunity=deal)
    assert not Opportunity.objects.exists()
    assert not TimelineEntry.objects.filter(kind="sales.opportunity").exists()


def test_board_columns_counts_sums_and_cards(rep, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from kith.sales.selectors import opportunities as sel

    customer = f.customer(owner=rep)
    for amount in ("10.00", "30.50", "20.00"):
        f.opportunity(rep, customer=customer, amount=amount, expected_close_date="2027-01-31")
    usd = f.opportunity(rep, customer=customer, amount="5", currency="USD")
    svc.opportunity_move(actor=rep, opportunity=usd, stage=f.stage("Needs analysis"), expected_version=1)
    rep.refresh_from_db()
    pipeline = f.pipeline()
    with django_assert_max_num_queries(4):  # stages, counts and sums, the cards (+ the reach size, cached)
        board = sel.board(user=rep, pipeline=pipeline, cards=2)
    first, second = board.columns[0], board.columns[1]
    assert [c.stage.name for c in board.columns] == [
        "Qualification",
        "Needs analysis",
        "Proposal sent",
        "Negotiation",
    ]
    assert first.count == 3 and first.totals == [("EUR", Decimal("60.50"))]
    assert [c.amount for c in first.cards] == [Decimal("30.50"), Decimal("20.00")] and first.more == 1
    assert first.cards[0].customer_number == customer.customer_number
    assert str(first.cards[0].expected_close_date) == "2027-01-31"
    assert second.count == 1 and second.totals == [("USD", Decimal("5.00"))]


def test_a_stage_alone_names_its_pipeline_and_must_be_open(rep) -> None:  # type: ignore[no-untyped-def]
    from kith.sales.services import pipelines

    renewals = pipelines.pipeline_create(actor=None, data={"name": "Renewals"})
    new = renewals.stages.get(kind="open")
    deal = f.opportunity(rep, stage=new.pk)
    assert deal.pipeline == renewals and deal.stage == new
    with pytest.raises(ValidationError) as caught:
        f.opportunity(rep, stage=f.stage("Won").pk)
    assert "stage" in caught.value.message_dict


def test_created_inside_the_callers_transaction(rep) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    customer = f.customer(owner=rep)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.opportunity_create(actor=rep, data={"customer": customer, "name": "x", "currency": "EUR"})
        raise RuntimeError("the conversion failed later")
    assert not Opportunity.objects.exists() and not StageChange.objects.exists()


def test_pipeline_rules() -> None:
    from kith.core.errors import DeleteRefused
    from kith.sales.services import pipelines

    admin = make_user("admin", "sales_manager")
    pipeline = pipelines.pipeline_create(actor=admin, data={"name": "Renewals"})
    stages = {s.kind: s for s in pipeline.stages.all()}
    with pytest.raises(DeleteRefused):  # the only won stage
        pipelines.stage_delete(actor=admin, stage=stages["won"])
    with pytest.raises(ValidationError) as caught:  # the only open stage cannot become lost
        pipelines.stage_update(actor=admin, stage=stages["open"], data={"kind": "lost"})
    assert "kind" in caught.value.message_dict
    offer = pipelines.stage_create(
        actor=admin, pipeline=pipeline, data={"name": "Offer", "probability": "40"}
    )
    with pytest.raises(ValidationError):
        pipelines.stage_create(actor=admin, pipeline=pipeline, data={"name": "offer", "probability": "140"})
    pipelines.stages_reorder(
        actor=admin, pipeline=pipeline, order=[offer.pk, *(s.pk for s in stages.values())]
    )
    offer.refresh_from_db()
    assert offer.position == 0
    deal = f.opportunity(None, pipeline=pipeline, stage=offer, customer=f.customer())
    with pytest.raises(DeleteRefused):
        pipelines.stage_delete(actor=admin, stage=offer)
    with pytest.raises(ValidationError):  # a stage in use keeps its kind
        pipelines.stage_update(actor=admin, stage=offer, data={"kind": "won"})
    pipelines.stage_update(actor=admin, stage=offer, data={"name": "Quote", "requires_approval": True})
    with pytest.raises(DeleteRefused):
        pipelines.pipeline_delete(actor=admin, pipeline=pipeline)
    svc.opportunity_delete(actor=None, opportunity=deal)
    pipelines.pipeline_delete(actor=admin, pipeline=pipeline)
    with pytest.raises(PermissionDenied):
        pipelines.pipeline_create(actor=make_user("rep2", "sales_rep"), data={"name": "Mine"})
