"""Sales target services: who may set them, field errors (all at once, nothing saved), overlaps,
optimistic locking, the audit trail, and the database's own checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from kith.core.errors import ConflictError
from kith.sales.models import SalesTarget
from kith.sales.selectors import forecast as selectors
from kith.sales.services import targets as services
from kith.security import services as security_services
from kith.security.models import Team
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():  # type: ignore[no-untyped-def]
    """head (sales manager, administers opportunities) > lead (a rep role plus reports) > rep; peer reports
    to lead too. Team Alpha = lead, rep and peer."""
    head = make_user("head", "sales_manager")
    lead = make_user("lead", "sales_rep", manager=head)
    rep = make_user("rep", "sales_rep", manager=lead)
    peer = make_user("peer", "sales_rep", manager=lead)
    alpha = Team.objects.create(name="Alpha")
    for person in (lead, rep, peer):
        security_services.set_team(person, alpha)
    return {"head": head, "lead": lead, "rep": rep, "peer": peer, "alpha": alpha}


def data(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "amount": "12000",
        "currency": "EUR",
    }
    return base | values


def test_a_manager_sets_the_targets_of_the_people_below(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep, peer = org["lead"], org["rep"], org["peer"]
    target = services.target_create(actor=lead, data=data(user=rep.pk, note="Q3"))
    assert (target.user, target.amount, target.currency, target.version) == (
        rep,
        Decimal("12000.00"),
        "EUR",
        1,
    )
    assert target.created_by == lead
    with pytest.raises(PermissionDenied):  # not their own
        services.target_create(actor=lead, data=data(user=lead.pk))
    with pytest.raises(PermissionDenied):  # a peer's
        services.target_create(actor=rep, data=data(user=peer.pk))
    with pytest.raises(PermissionDenied):  # nor their own
        services.target_create(actor=rep, data=data(user=rep.pk))
    assert SalesTarget.objects.count() == 1


def test_a_team_target_needs_every_member_below(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep, alpha = org["lead"], org["rep"], org["alpha"]
    assert services.target_create(actor=lead, data=data(team=alpha.pk)).team == alpha  # lead apart, all below
    with pytest.raises(PermissionDenied):
        services.target_create(
            actor=rep, data=data(team=alpha.pk, period_start="2027-01-01", period_end="2027-03-31")
        )
    empty = Team.objects.create(name="Empty")
    with pytest.raises(PermissionDenied):
        services.target_create(actor=lead, data=data(team=empty.pk))


def test_administer_sets_anyones(org) -> None:  # type: ignore[no-untyped-def]
    head = org["head"]
    assert (
        services.target_create(actor=head, data=data(user=head.pk)).user == head
    )  # administer: even their own
    assert services.target_create(actor=head, data=data(team=Team.objects.create(name="Empty").pk)).team


def test_field_errors_all_at_once(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep = org["lead"], org["rep"]
    with pytest.raises(ValidationError) as caught:
        services.target_create(
            actor=lead,
            data={
                "user": rep.pk,
                "period_start": "2026-09-30",
                "period_end": "2026-07-01",
                "amount": "10.999",
                "currency": "EUR",
            },
        )
    assert set(caught.value.message_dict) == {"period_end", "amount"}
    assert "ends before it starts" in caught.value.message_dict["period_end"][0]
    assert "2 decimal" in caught.value.message_dict["amount"][0]
    with pytest.raises(ValidationError) as caught:
        services.target_create(
            actor=lead,
            data={"period_start": "2026-13-01", "period_end": "", "amount": "0", "currency": "XXX"},
        )
    assert set(caught.value.message_dict) == {"user", "period_start", "period_end", "amount", "currency"}
    with pytest.raises(ValidationError) as caught:
        services.target_create(actor=lead, data=data(user=rep.pk, team=org["alpha"].pk, amount="-5"))
    assert set(caught.value.message_dict) == {"team", "amount"}
    with pytest.raises(ValidationError) as caught:
        services.target_create(actor=lead, data=data(user=rep.pk, currency="JPY", amount="100.5"))
    assert "no decimal places" in caught.value.message_dict["amount"][0]
    with pytest.raises(ValidationError) as caught:
        services.target_create(actor=lead, data=data(user=rep.pk, period_end="2040-01-01"))
    assert set(caught.value.message_dict) == {"period_end"}
    assert SalesTarget.objects.count() == 0


def test_overlapping_targets_are_refused(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep, peer = org["lead"], org["rep"], org["peer"]
    services.target_create(actor=lead, data=data(user=rep.pk))
    with pytest.raises(ValidationError) as caught:  # a month inside the quarter
        services.target_create(
            actor=lead, data=data(user=rep.pk, period_start="2026-08-01", period_end="2026-08-31")
        )
    assert "overlaps the target from 2026-07-01 to 2026-09-30" in caught.value.message_dict["period_start"][0]
    with pytest.raises(ValidationError):  # the same period
        services.target_create(actor=lead, data=data(user=rep.pk))
    # the next quarter, and another person's same quarter, are fine
    services.target_create(
        actor=lead, data=data(user=rep.pk, period_start="2026-10-01", period_end="2026-12-31")
    )
    services.target_create(actor=lead, data=data(user=peer.pk))
    assert SalesTarget.objects.count() == 3


def test_update_with_optimistic_locking(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep = org["lead"], org["rep"]
    target = services.target_create(actor=lead, data=data(user=rep.pk))
    services.target_update(actor=lead, target=target, data={"amount": "15000.50"}, expected_version=1)
    target.refresh_from_db()
    assert (target.amount, target.version) == (Decimal("15000.50"), 2)
    with pytest.raises(ConflictError):
        services.target_update(actor=lead, target=target, data={"amount": "1"}, expected_version=1)
    with pytest.raises(ValidationError) as caught:  # the subject stays
        services.target_update(actor=lead, target=target, data={"user": org["peer"].pk})
    assert set(caught.value.message_dict) == {"user"}
    with pytest.raises(ValidationError) as caught:  # 3 decimals in EUR
        services.target_update(actor=lead, target=target, data={"amount": "1.001"})
    assert set(caught.value.message_dict) == {"amount"}
    with pytest.raises(ValidationError) as caught:  # changing only the currency re-checks the amount
        services.target_update(actor=lead, target=target, data={"currency": "JPY"})
    assert set(caught.value.message_dict) == {"amount"}
    with pytest.raises(PermissionDenied):
        services.target_update(actor=rep, target=target, data={"amount": "1"})
    target.refresh_from_db()
    assert (target.amount, target.version) == (Decimal("15000.50"), 2)


def test_update_may_not_create_an_overlap(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep = org["lead"], org["rep"]
    services.target_create(actor=lead, data=data(user=rep.pk))
    later = services.target_create(
        actor=lead, data=data(user=rep.pk, period_start="2026-10-01", period_end="2026-12-31")
    )
    with pytest.raises(ValidationError) as caught:
        services.target_update(actor=lead, target=later, data={"period_start": "2026-09-15"})
    assert set(caught.value.message_dict) == {"period_start"}
    services.target_update(actor=lead, target=later, data={"period_end": "2027-03-31"})  # itself: no overlap


def test_delete(org) -> None:  # type: ignore[no-untyped-def]
    lead, rep = org["lead"], org["rep"]
    target = services.target_create(actor=lead, data=data(user=rep.pk))
    with pytest.raises(PermissionDenied):
        services.target_delete(actor=rep, target=target)
    services.target_delete(actor=lead, target=target)
    assert not SalesTarget.objects.exists()


def test_changes_are_audited(org) -> None:  # type: ignore[no-untyped-def]
    from kith.audit.models import AuditEntry

    lead, rep = org["lead"], org["rep"]
    target = services.target_create(actor=lead, data=data(user=rep.pk))
    services.target_update(actor=lead, target=target, data={"amount": "13000"})
    entries = AuditEntry.objects.filter(object_type="sales.salestarget", object_id=str(target.pk))
    assert set(entries.values_list("action", flat=True)) >= {"create", "update"}


def test_the_database_refuses_what_the_service_refuses(org) -> None:  # type: ignore[no-untyped-def]
    rep, alpha = org["rep"], org["alpha"]
    bad = [
        {"user": rep, "team": alpha},
        {},
        {"user": rep, "period_end": dt.date(2026, 6, 1)},
        {"user": rep, "amount": Decimal(0)},
    ]
    for values in bad:
        fields = {
            "period_start": dt.date(2026, 7, 1),
            "period_end": dt.date(2026, 9, 30),
            "amount": Decimal(1),
            "currency": "EUR",
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            SalesTarget.objects.create(**(fields | values))


def test_settable_matches_may_set(org) -> None:  # type: ignore[no-untyped-def]
    head, lead, rep = org["head"], org["lead"], org["rep"]
    mine = services.target_create(actor=head, data=data(user=lead.pk))
    theirs = services.target_create(actor=lead, data=data(user=rep.pk))
    team = services.target_create(actor=lead, data=data(team=org["alpha"].pk))
    rows = [mine, theirs, team]
    assert services.settable(lead, rows) == {theirs.pk, team.pk}
    assert services.settable(rep, rows) == set()
    assert services.settable(head, rows) == {mine.pk, theirs.pk, team.pk}
    for actor in (head, lead, rep):
        expected = {t.pk for t in rows if services.may_set_target(actor, user=t.user, team=t.team)}
        assert services.settable(actor, rows) == expected
    # what each sees: the lead theirs and the team's, not their own manager's ... but their own, yes
    assert {t.pk for t in selectors.targets_for(rep)} == {theirs.pk}
    assert {t.pk for t in selectors.targets_for(org["peer"])} == set()


def test_a_concurrent_duplicate_is_a_field_error(org, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two requests passing the overlap check together: the unique constraint decides, as a field error."""
    lead, rep = org["lead"], org["rep"]
    services.target_create(actor=lead, data=data(user=rep.pk))
    monkeypatch.setattr(services, "_check_overlap", lambda **kwargs: None)
    with pytest.raises(ValidationError) as caught:
        services.target_create(actor=lead, data=data(user=rep.pk))
    assert set(caught.value.message_dict) == {"period_start"}
    assert SalesTarget.objects.count() == 1
