"""The forecast, funnel and leaderboard selectors: figures computed by hand, visibility (a manager sees the
team, a representative their own, a peer nothing of a peer), currency conversion with a missing rate, and
query counts that do not grow with the number of deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from kith.parties.models import Customer
from kith.sales.choices import StageKind
from kith.sales.models import CloseReason, ExchangeRate, Opportunity, StageChange
from kith.sales.selectors import forecast as fc
from kith.sales.services import opportunities as opp_services
from kith.sales.services import targets as target_services
from kith.sales.tests import opportunity_factories as f
from kith.security import services as security_services
from kith.security.models import Team
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

JUNE = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
HALFWAY = dt.date(2026, 6, 15)  # 15 of June's 30 days


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def win(deal: Opportunity, on: dt.date) -> Opportunity:
    """Move to Won through the service, then date the closing (the service stamps now)."""
    reason = CloseReason.objects.filter(kind=StageKind.WON).first()
    opp_services.opportunity_move(actor=None, opportunity=deal, stage=f.stage("Won"), close_reason=reason)
    Opportunity.objects.filter(pk=deal.pk).update(closed_at=at(on))
    return deal


def lose(deal: Opportunity, on: dt.date) -> Opportunity:
    reason = CloseReason.objects.filter(kind=StageKind.LOST).first()
    opp_services.opportunity_move(actor=None, opportunity=deal, stage=f.stage("Lost"), close_reason=reason)
    Opportunity.objects.filter(pk=deal.pk).update(closed_at=at(on))
    return deal


def deal(owner: Any, amount: str, currency: str = "EUR", **data: Any) -> Opportunity:
    """A deal of ``owner`` (for one customer of theirs, made once)."""
    customer = Customer.objects.filter(owner=owner).first() or f.customer(owner=owner)
    return f.opportunity(None, owner=owner, customer=customer, amount=amount, currency=currency, **data)


@pytest.fixture
def org():  # type: ignore[no-untyped-def]
    """boss manages rep and peer; team North = boss and rep, team South = peer."""
    boss = make_user("boss", "sales_manager", display_name="Bea Boss")
    rep = make_user("rep", "sales_rep", manager=boss, display_name="Rita Rep")
    peer = make_user("peer", "sales_rep", manager=boss, display_name="Pete Peer")
    north = Team.objects.create(name="North")
    south = Team.objects.create(name="South")
    for person, team in ((boss, north), (rep, north), (peer, south)):
        security_services.set_team(person, team)
    for person in (boss, rep, peer):
        person.refresh_from_db()
    return {"boss": boss, "rep": rep, "peer": peer, "north": north, "south": south}


@pytest.fixture
def june(org):  # type: ignore[no-untyped-def]
    """The rep's June: 1,000 EUR won on the 10th; 2,000 EUR open at 25 % closing on the 20th; 1,000 USD
    open at 50 % closing on the 30th (1 USD = 0.9 EUR); 700 GBP won (no GBP rate); outside the period a deal
    won in May and one closing in July. The peer won 5,000 EUR; targets: rep 3,000 EUR for June, North
    10,000 EUR for the second quarter."""
    rep, peer, boss = org["rep"], org["peer"], org["boss"]
    ExchangeRate.objects.create(from_currency="USD", to_currency="EUR", rate=Decimal("0.9"), date=JUNE[0])
    win(deal(rep, "1000.00", name="Won in June"), dt.date(2026, 6, 10))
    deal(rep, "2000.00", probability=25, expected_close_date="2026-06-20", name="Open in June")
    deal(rep, "1000.00", "USD", probability=50, expected_close_date="2026-06-30", name="Dollars")
    gbp = deal(rep, "700.00", "GBP", name="Pounds")
    Opportunity.objects.filter(pk=gbp.pk).update(
        status=StageKind.WON, stage=f.stage("Won"), closed_at=at(dt.date(2026, 6, 12))
    )
    win(deal(rep, "300.00", name="Won in May"), dt.date(2026, 5, 31))
    deal(rep, "400.00", probability=10, expected_close_date="2026-07-05", name="July")
    win(deal(peer, "5000.00", name="Peer's"), dt.date(2026, 6, 3))
    lose(deal(peer, "800.00", name="Peer lost"), dt.date(2026, 6, 4))
    target_services.target_create(
        actor=None,
        data={
            "user": rep,
            "period_start": "2026-06-01",
            "period_end": "2026-06-30",
            "amount": "3000",
            "currency": "EUR",
        },
    )
    target_services.target_create(
        actor=None,
        data={
            "team": org["north"],
            "period_start": "2026-04-01",
            "period_end": "2026-06-30",
            "amount": "10000",
            "currency": "EUR",
        },
    )
    return org | {"boss": boss}


def test_period_of() -> None:
    day = dt.date(2026, 8, 17)
    assert fc.period_of("month", day) == (dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    assert fc.period_of("quarter", day) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert fc.period_of("year", day) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert fc.period_of("month", dt.date(2026, 12, 5)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert fc.period_of("quarter", dt.date(2026, 11, 5)) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def test_prorated_target() -> None:
    rows = [(dt.date(2026, 4, 1), dt.date(2026, 6, 30), Decimal("9100"), "EUR")]  # 91 days: 100 a day
    assert fc.prorated(rows, *JUNE) == {"EUR": Decimal("3000")}
    assert fc.prorated(rows, dt.date(2026, 6, 20), dt.date(2026, 7, 31)) == {"EUR": Decimal("1100")}
    assert fc.prorated(rows, dt.date(2026, 7, 1), dt.date(2026, 7, 31)) == {}


def test_the_reps_forecast_by_hand(june) -> None:  # type: ignore[no-untyped-def]
    rep = june["rep"]
    result = fc.forecast(user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    assert result.subject.user == rep
    assert result.won == Decimal("1000.00") and result.won_count == 2  # the GBP deal counted, not summed
    # 2,000 × 25 % + 1,000 USD × 0.9 × 50 %
    assert result.weighted_pipeline == Decimal("950.00")
    assert result.open_pipeline == Decimal("2900.00") and result.open_count == 2
    assert result.forecast == Decimal("1950.00")
    assert result.elapsed_share == Decimal("0.5")
    assert result.run_rate == Decimal("2000.00")  # 1,000 won in half the period
    assert result.target == Decimal("3000.00")
    assert result.gap_to_target == Decimal("1050.00")
    assert result.run_rate_gap == Decimal("1000.00")
    assert result.attainment == Decimal("33.3")
    assert result.rate_date == HALFWAY
    assert [(u.currency, u.amounts) for u in result.unconverted] == [("GBP", {"won": Decimal("700.00")})]
    assert result.missing_rates == ["GBP"]


def test_before_and_after_the_period(june) -> None:  # type: ignore[no-untyped-def]
    rep = june["rep"]
    before = fc.forecast(
        user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=dt.date(2026, 5, 20)
    )
    assert before.run_rate is None and before.elapsed_share is None
    after = fc.forecast(
        user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=dt.date(2026, 9, 1)
    )
    assert after.elapsed_share == 1 and after.run_rate == after.won == Decimal("1000.00")
    assert after.rate_date == JUNE[1]


def test_reporting_in_another_currency(june) -> None:  # type: ignore[no-untyped-def]
    rep = june["rep"]
    # EUR -> USD is the inverse of the USD -> EUR rate: 1 / 0.9
    result = fc.forecast(user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="USD", today=HALFWAY)
    assert result.won == Decimal("1111.11")
    assert result.weighted_pipeline == Decimal("1055.56")  # 500 / 0.9 + 1,000 × 50 %
    assert result.target == Decimal("3333.33")


def test_a_team_forecast_for_its_manager(june) -> None:  # type: ignore[no-untyped-def]
    boss, north = june["boss"], june["north"]
    result = fc.forecast(
        user=boss, subject_team=north.pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY
    )
    assert result.subject.team == north
    assert result.won == Decimal("1000.00")  # the rep's; the peer is in South
    assert result.target == Decimal("3296.70")  # 10,000 × 30 / 91 days
    assert result.members_target == Decimal("3000.00")  # the rep's own, shown apart
    south = fc.forecast(
        user=boss, subject_team=june["south"].pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR"
    )
    assert south.won == Decimal("5000.00") and south.target is None


def test_a_team_counts_the_teams_below(june) -> None:  # type: ignore[no-untyped-def]
    boss, north, south = june["boss"], june["north"], june["south"]
    south.parent = north
    south.save()
    result = fc.forecast(user=boss, subject_team=north.pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    assert result.won == Decimal("6000.00")


def test_visibility_of_subjects(june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = june["boss"], june["rep"], june["peer"]
    of_rep = fc.forecast(user=boss, subject_user=rep.pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    assert of_rep.won == Decimal("1000.00")
    with pytest.raises(Http404):
        fc.forecast(user=peer, subject_user=rep.pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    with pytest.raises(Http404):  # the rep's team holds the boss: not in the rep's reach
        fc.forecast(
            user=rep, subject_team=june["north"].pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR"
        )
    with pytest.raises(Http404):
        fc.forecast(user=rep, subject_user=boss.pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    assert {t.name for t in fc.teams_in_reach(boss)} == {"North", "South"}
    assert fc.teams_in_reach(rep) == []
    assert set(fc.people_in_reach(rep)) == {rep}
    assert set(fc.people_in_reach(boss)) == {boss, rep, peer}
    # targets: the rep sees their own, the peer none of the rep's
    assert [t.user_id for t in fc.targets_for(rep)] == [rep.pk]
    assert list(fc.targets_for(peer)) == []


def test_a_share_does_not_put_a_peers_deal_in_my_numbers(june) -> None:  # type: ignore[no-untyped-def]
    """The forecast counts the subject's deals only, whatever else is shared with the asking user."""
    peer = june["peer"]
    mine = fc.forecast(user=peer, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    assert mine.won == Decimal("5000.00") and mine.target is None and mine.gap_to_target is None


def test_forecast_queries(june, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    boss, rep = june["boss"], june["rep"]
    fc.forecast(user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)  # warm caches
    # the deals, the targets, and USD and GBP rates (two reads each: direct and inverse)
    with django_assert_num_queries(6):
        fc.forecast(user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    for _ in range(20):
        deal(rep, "10.00", probability=10, expected_close_date="2026-06-25")
    with django_assert_num_queries(6):
        fc.forecast(user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    fc.forecast(user=boss, subject_team=june["north"].pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    # + teams and members (reach), teams again (the subtree) and the members' targets
    with django_assert_num_queries(10):
        fc.forecast(
            user=boss, subject_team=june["north"].pk, date_from=JUNE[0], date_to=JUNE[1], currency="EUR"
        )


# --- funnel -----------------------------------------------------------------------------------------


def _history(deal: Opportunity, moves: list[tuple[str, int]], start: dt.datetime) -> None:
    """Move ``deal`` through the stages named, then date the changes: the creation at ``start`` and each
    move the given seconds after the one before (also its ``seconds_in_previous``)."""
    for name, _seconds in moves:
        stage = f.stage(name)
        reason = CloseReason.objects.filter(kind=stage.kind).first() if stage.kind != StageKind.OPEN else None
        deal.refresh_from_db()
        opp_services.opportunity_move(actor=None, opportunity=deal, stage=stage, close_reason=reason)
    changes = list(StageChange.objects.filter(opportunity=deal).order_by("changed_at", "id"))
    when = start
    StageChange.objects.filter(pk=changes[0].pk).update(changed_at=when, seconds_in_previous=None)
    for change, (_name, seconds) in zip(changes[1:], moves, strict=True):
        when = when + dt.timedelta(seconds=seconds)
        StageChange.objects.filter(pk=change.pk).update(changed_at=when, seconds_in_previous=seconds)


@pytest.fixture
def funnel_deals(org):  # type: ignore[no-untyped-def]
    """Four deals of the rep in June: Qualification -> Needs analysis -> Proposal sent -> Won;
    Q -> NA -> Lost; Q -> NA; Q. Seconds in Qualification: 3,600, 3,600, 14,400; in Needs analysis:
    86,400 and 43,200; in Proposal sent: 7,200."""
    rep = org["rep"]
    start = at(dt.date(2026, 6, 2), 9)
    d1, d2, d3, d4 = (deal(rep, "100.00", name=f"Deal {i}") for i in range(1, 5))
    _history(d1, [("Needs analysis", 3600), ("Proposal sent", 86400), ("Won", 7200)], start)
    _history(d2, [("Needs analysis", 3600), ("Lost", 43200)], start)
    _history(d3, [("Needs analysis", 14400)], start)
    _history(d4, [], start)
    return org


def test_funnel_by_hand(funnel_deals) -> None:  # type: ignore[no-untyped-def]
    result = fc.funnel(user=funnel_deals["rep"], pipeline=f.pipeline(), date_from=JUNE[0], date_to=JUNE[1])
    by_name = {row.stage.name: row for row in result.stages}
    assert [row.stage.name for row in result.stages] == [
        "Qualification",
        "Needs analysis",
        "Proposal sent",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert [row.entered for row in result.stages] == [4, 3, 1, 0, 1, 1]
    assert by_name["Qualification"].advanced == 3 and by_name["Qualification"].conversion == Decimal("75.0")
    assert by_name["Needs analysis"].advanced == 1 and by_name["Needs analysis"].conversion == Decimal("33.3")
    assert by_name["Proposal sent"].conversion == Decimal("100.0")  # on to Won
    assert by_name["Negotiation"].conversion is None
    assert by_name["Won"].conversion is None
    qualification = by_name["Qualification"]
    assert (qualification.left, qualification.average_seconds, qualification.median_seconds) == (
        3,
        7200,
        3600,
    )
    analysis = by_name["Needs analysis"]
    assert (analysis.left, analysis.average_seconds, analysis.median_seconds) == (2, 64800, 64800)
    assert by_name["Proposal sent"].median_seconds == 7200
    assert by_name["Negotiation"].average_seconds is None
    assert (result.won, result.lost, result.win_rate, result.overall) == (
        1,
        1,
        Decimal("50.0"),
        Decimal("25.0"),
    )


def test_funnel_visibility_and_period(funnel_deals) -> None:  # type: ignore[no-untyped-def]
    boss, peer = funnel_deals["boss"], funnel_deals["peer"]
    assert (
        fc.funnel(user=boss, pipeline=f.pipeline(), date_from=JUNE[0], date_to=JUNE[1]).stages[0].entered == 4
    )
    assert (
        fc.funnel(user=peer, pipeline=f.pipeline(), date_from=JUNE[0], date_to=JUNE[1]).stages[0].entered == 0
    )
    july = fc.funnel(
        user=boss, pipeline=f.pipeline(), date_from=dt.date(2026, 7, 1), date_to=dt.date(2026, 7, 31)
    )
    assert all(row.entered == 0 for row in july.stages) and july.win_rate is None


def test_funnel_queries(funnel_deals, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    rep, pipeline = funnel_deals["rep"], f.pipeline()
    fc.funnel(user=rep, pipeline=pipeline, date_from=JUNE[0], date_to=JUNE[1])
    with django_assert_num_queries(4):  # stages, entries with conversions, averages, medians
        fc.funnel(user=rep, pipeline=pipeline, date_from=JUNE[0], date_to=JUNE[1])
    for i in range(10):
        _history(deal(rep, "5.00", name=f"More {i}"), [("Needs analysis", 60)], at(dt.date(2026, 6, 5)))
    with django_assert_num_queries(4):
        result = fc.funnel(user=rep, pipeline=pipeline, date_from=JUNE[0], date_to=JUNE[1])
    assert result.stages[0].entered == 14


# --- leaderboard ------------------------------------------------------------------------------------


def test_leaderboard_for_the_manager(june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = june["boss"], june["rep"], june["peer"]
    board = fc.leaderboard(user=boss, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    assert [r.user_id for r in board.rows] == [peer.pk, rep.pk, boss.pk]
    first, second, third = board.rows
    assert (first.won, first.won_count, first.lost_count, first.win_rate) == (
        Decimal("5000.00"),
        1,
        1,
        Decimal("50.0"),
    )
    assert first.target is None and first.attainment is None
    assert (second.won, second.won_count, second.win_rate) == (Decimal("1000.00"), 2, Decimal("100.0"))
    assert second.open_pipeline == Decimal("2900.00") and second.open_count == 2
    assert second.target == Decimal("3000.00") and second.attainment == Decimal("33.3")
    assert second.missing_rates == ["GBP"] and board.missing_rates == ["GBP"]
    assert third.won == 0 and third.win_rate is None  # in reach, without deals: listed with zeros


def test_a_big_reach_is_read_by_the_database(june, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Above BIG_REACH people the reach is a subquery, not a list of parameters: the same figures."""
    boss = june["boss"]
    small = fc.leaderboard(user=boss, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    monkeypatch.setattr(fc, "BIG_REACH", 1)
    assert not isinstance(fc.reach_of(boss), list)
    big = fc.leaderboard(user=boss, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    assert big.rows == small.rows
    assert {p.pk for p in fc.people_in_reach(boss)} == {june["boss"].pk, june["rep"].pk, june["peer"].pk}
    assert fc.targets_for(june["rep"]).count() == 1


def test_leaderboard_for_a_rep_shows_only_them(june) -> None:  # type: ignore[no-untyped-def]
    rep = june["rep"]
    board = fc.leaderboard(user=rep, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    assert [r.user_id for r in board.rows] == [rep.pk]


def test_leaderboard_queries(june, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    boss = june["boss"]
    fc.leaderboard(user=boss, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    # deals, targets, people, USD and GBP rates (two reads each)
    with django_assert_num_queries(7):
        fc.leaderboard(user=boss, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)
    for person in (june["rep"], june["peer"]):
        for _ in range(5):
            deal(person, "10.00", expected_close_date="2026-06-22")
    with django_assert_num_queries(7):
        fc.leaderboard(user=boss, date_from=JUNE[0], date_to=JUNE[1], currency="EUR", today=HALFWAY)


def test_superuser_leaderboard_lists_people_with_figures(june, admin_user) -> None:  # type: ignore[no-untyped-def]
    board = fc.leaderboard(user=admin_user, date_from=JUNE[0], date_to=JUNE[1], currency="EUR")
    assert {r.user_id for r in board.rows} == {june["rep"].pk, june["peer"].pk}
    assert timezone.is_aware(at(JUNE[0]))
