"""Sales targets, the forecast against them, the stage funnel and the leaderboard: reads scoped by who asks.

Who sees whose numbers: a user asks about themself, anyone below them in the manager chain, and a team
whose members (the team's and those of the teams below it) are all below them or themself; one who sees
every opportunity (a superuser, a role that reads everything, an organisation default that opens
opportunities) asks about anyone. The figures are always read through ``opportunities_for(user)``, so a
deal the asking user may not see is never counted. Every formula is in docs/sales-forecast.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from kith.sales import currencies
from kith.sales.choices import OPPORTUNITY, OpportunityStatus, StageKind
from kith.sales.models import Pipeline, Stage, StageChange
from kith.sales.models.targets import SalesTarget
from kith.sales.selectors.opportunities import opportunities_for
from kith.sales.selectors.pricing import NoExchangeRate, rate_between
from kith.security.models import Reach, Team
from kith.security.rules import ADMINISTER, VIEW, has_permission, require_permission
from kith.security.selectors import holding, sees_everything, visible_q

HUNDRED = Decimal(100)
WEIGHTED: Any = DecimalField(max_digits=24, decimal_places=2)
PERIODS = ("month", "quarter", "year")
BIG_REACH = 64  # above this many people, the database reads the reach itself


# --- periods ------------------------------------------------------------------------------------------
def current_day() -> dt.date:
    return timezone.localdate()


def period_of(kind: str, day: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The calendar month, quarter or year around ``day`` (default today), first and last day."""
    day = day or current_day()
    if kind == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    first_month = (day.month - 1) // 3 * 3 + 1 if kind == "quarter" else day.month
    months = 3 if kind == "quarter" else 1
    start = dt.date(day.year, first_month, 1)
    following = first_month + months
    end = (
        dt.date(day.year + 1, following - 12, 1) if following > 12 else dt.date(day.year, following, 1)
    ) - dt.timedelta(days=1)
    return start, end


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants of the period: from the first day's midnight to the midnight after the last day (the
    current time zone's, UTC unless ``KITH_TIME_ZONE`` says otherwise)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _days(date_from: dt.date, date_to: dt.date) -> int:
    return (date_to - date_from).days + 1


def prorated(
    targets: Iterable[tuple[dt.date, dt.date, Decimal, str]], date_from: dt.date, date_to: dt.date
) -> dict[str, Decimal]:
    """The part of each target that falls in the period, by currency: amount × days of the target inside
    the period ÷ days of the target (unrounded: rounding comes once, after conversion)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for start, end, amount, currency in targets:
        inside = (min(end, date_to) - max(start, date_from)).days + 1
        if inside > 0:
            totals[currency] += Decimal(amount) * inside / _days(start, end)
    return dict(totals)


# --- conversion ---------------------------------------------------------------------------------------
class Converter:
    """Amounts into one currency at the rates of one day; a currency without a rate is remembered (and its
    amounts left out of the totals by the callers, which report them)."""

    def __init__(self, target: str, on: dt.date) -> None:
        self.target = target
        self.on = on
        self.rates: dict[str, Decimal | None] = {target: Decimal(1)}

    def rate(self, source: str) -> Decimal | None:
        if source not in self.rates:
            try:
                self.rates[source] = rate_between(source, self.target, on=self.on)
            except NoExchangeRate:
                self.rates[source] = None
        return self.rates[source]

    def __call__(self, amount: Decimal, source: str) -> Decimal | None:
        """``amount`` of ``source`` in the target currency, unrounded; None without a rate."""
        rate = self.rate(source)
        return None if rate is None else Decimal(amount) * rate

    @property
    def missing(self) -> list[str]:
        return sorted(code for code, rate in self.rates.items() if rate is None)


def money(value: Decimal, currency: str) -> Decimal:
    return Decimal(value).quantize(currencies.quantum(currency), rounding=ROUND_HALF_UP) + 0


# --- who may be asked about ---------------------------------------------------------------------------
def sees_all_people(user: Any) -> bool:
    return sees_everything(user, OPPORTUNITY)


def _team_tree() -> tuple[dict[int, Team], dict[int | None, list[int]]]:
    teams = {t.pk: t for t in Team.objects.order_by("name", "pk")}
    children: dict[int | None, list[int]] = defaultdict(list)
    for team in teams.values():
        children[team.parent_id].append(team.pk)
    return teams, children


def _below(team_id: int, children: dict[int | None, list[int]]) -> list[int]:
    found: list[int] = []
    todo = [team_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.append(current)
            todo.extend(children.get(current, []))
    return found


def team_and_below(team_id: int) -> list[int]:
    """The team and every team below it (ids)."""
    _teams, children = _team_tree()
    return _below(team_id, children)


def reach_of(user: Any) -> Any:
    """The ids of ``user`` and everyone below them: a list, or for a big team a subquery the database
    reads itself (no thousands of parameters), as ``visible_q`` does."""
    held = holding(user).reach
    if len(held) > BIG_REACH:
        return Reach.objects.filter(manager_id=user.pk).values("member_id")
    return list(held)


def people_in_reach(user: Any) -> QuerySet[Any]:
    """The people whose numbers ``user`` may see: themself and everyone below them (everyone, for one who
    sees every opportunity)."""
    require_permission(user, OPPORTUNITY, VIEW)
    people = get_user_model().objects.all()
    if not sees_all_people(user):
        people = people.filter(pk__in=reach_of(user))
    return people.order_by("display_name", "username", "pk")


def teams_in_reach(user: Any) -> list[Team]:
    """The teams whose numbers ``user`` may see: every team with at least one member whose members (its
    own and those of the teams below it) are all ``user`` or below them (every team, for one who sees every
    opportunity). Two queries."""
    require_permission(user, OPPORTUNITY, VIEW)
    teams, children = _team_tree()
    if sees_all_people(user):
        return list(teams.values())
    reach = set(holding(user).reach)
    members: dict[int, set[int]] = defaultdict(set)
    for pk, team_id in get_user_model().objects.filter(team__isnull=False).values_list("pk", "team_id"):
        members[team_id].add(pk)
    found = []
    for team in teams.values():
        people = set().union(*(members[t] for t in _below(team.pk, children)))
        if people and people <= reach:
            found.append(team)
    return found


@dataclass(frozen=True)
class Subject:
    """Whose numbers: one person (``user``) or one team (``team``, with the teams below it)."""

    user: Any = None
    team: Team | None = None
    team_ids: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        return "team" if self.team is not None else "user"

    @property
    def label(self) -> str:
        return str(self.team if self.team is not None else self.user)

    @property
    def pk(self) -> int:
        return int((self.team or self.user).pk)

    def owners(self) -> Any:
        """The owners whose deals count: the person, or the members of the team and the teams below."""
        if self.team is None:
            return [self.user.pk]
        return get_user_model().objects.filter(team_id__in=self.team_ids).values("pk")


def subject_for(user: Any, *, subject_user: Any = None, subject_team: Any = None) -> Subject:
    """The subject ``user`` asks about (themself when neither is given); one out of their reach is a 404."""
    require_permission(user, OPPORTUNITY, VIEW)
    if subject_user not in (None, "") and subject_team not in (None, ""):
        raise Http404
    if subject_team not in (None, ""):
        key = _key(subject_team)
        team = next((t for t in teams_in_reach(user) if t.pk == key), None)
        if team is None:
            raise Http404
        return Subject(team=team, team_ids=tuple(team_and_below(team.pk)))
    if subject_user in (None, ""):
        return Subject(user=user)
    key = _key(subject_user)
    found = people_in_reach(user).filter(pk=key).first()
    if found is None:
        raise Http404
    return Subject(user=found)


def _key(value: Any) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError) as exc:
        raise Http404 from exc


# --- targets ------------------------------------------------------------------------------------------
def targets_for(user: Any) -> QuerySet[SalesTarget]:
    """The targets ``user`` sees: of the people and teams in their reach; every target for one who sees
    every opportunity or administers them."""
    require_permission(user, OPPORTUNITY, VIEW)
    rows = SalesTarget.objects.select_related("user", "team")
    if sees_all_people(user) or has_permission(user, OPPORTUNITY, ADMINISTER):
        return rows
    teams = [t.pk for t in teams_in_reach(user)]
    return rows.filter(Q(user_id__in=reach_of(user)) | Q(team_id__in=teams))


def target_for(user: Any, pk: Any) -> SalesTarget:
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    row = targets_for(user).filter(pk=key).first()
    if row is None:
        raise Http404
    return row


def target_list(
    *,
    user: Any,
    subject_user: Any = None,
    subject_team: Any = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[SalesTarget]:
    """Visible targets, of one person or team when asked, overlapping the period when one is given."""
    rows = targets_for(user)
    if subject_user not in (None, ""):
        rows = rows.filter(user_id=_key(subject_user))
    if subject_team not in (None, ""):
        rows = rows.filter(team_id=_key(subject_team))
    if date_from is not None:
        rows = rows.filter(period_end__gte=date_from)
    if date_to is not None:
        rows = rows.filter(period_start__lte=date_to)
    return rows.order_by("-period_start", "team__name", "user__username", "pk")


def _overlapping(date_from: dt.date, date_to: dt.date) -> Q:
    return Q(period_start__lte=date_to, period_end__gte=date_from)


# --- the forecast -------------------------------------------------------------------------------------
@dataclass
class Unconverted:
    """Amounts in a currency without an exchange rate to the report's: left out of the totals."""

    currency: str
    amounts: dict[str, Decimal] = field(default_factory=dict)  # figure -> amount in ``currency``


@dataclass
class Forecast:
    subject: Subject
    date_from: dt.date
    date_to: dt.date
    currency: str
    today: dt.date
    rate_date: dt.date
    target: Decimal | None
    members_target: Decimal | None  # a team: the sum of its members' own targets, shown apart
    won: Decimal
    won_count: int
    open_pipeline: Decimal
    open_count: int
    weighted_pipeline: Decimal
    forecast: Decimal
    elapsed_share: Decimal | None  # 0 to 1; None before the period starts
    run_rate: Decimal | None
    gap_to_target: Decimal | None  # target - forecast (positive: short of it)
    run_rate_gap: Decimal | None  # target - run-rate
    attainment: Decimal | None  # won / target, percent
    unconverted: list[Unconverted] = field(default_factory=list)

    @property
    def missing_rates(self) -> list[str]:
        return [u.currency for u in self.unconverted]


def _convert_figures(
    by_currency: dict[str, dict[str, Decimal]], convert: Converter
) -> tuple[dict[str, Decimal], list[Unconverted]]:
    """Sum each figure over the currencies it has, converted; amounts without a rate are set apart."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    missing: dict[str, Unconverted] = {}
    for code, figures in sorted(by_currency.items()):
        for name, amount in figures.items():
            value = convert(amount, code)
            if value is None:
                if amount:
                    missing.setdefault(code, Unconverted(code)).amounts[name] = money(amount, code)
            else:
                totals[name] += value
    return totals, list(missing.values())


def forecast(
    *,
    user: Any,
    subject_user: Any = None,
    subject_team: Any = None,
    date_from: dt.date,
    date_to: dt.date,
    currency: str,
    today: dt.date | None = None,
) -> Forecast:
    """The subject's target, won so far, weighted pipeline, forecast and run-rate for the period, in
    ``currency`` (formulas in docs/sales-forecast.md). Queries: the subject, one grouped read of the deals,
    one of the targets (two for a team), and the exchange rates (two per other currency)."""
    if date_to < date_from:
        raise ValueError("date_to before date_from")
    subject = subject_for(user, subject_user=subject_user, subject_team=subject_team)
    day = today or current_day()
    rate_date = min(day, date_to)
    convert = Converter(currency, rate_date)
    start, end = _bounds(date_from, date_to)
    by_currency: dict[str, dict[str, Decimal]] = defaultdict(dict)
    won_count = open_count = 0
    rows = (
        opportunities_for(user)
        .filter(owner_id__in=subject.owners())
        .filter(
            Q(status=OpportunityStatus.WON, closed_at__gte=start, closed_at__lt=end)
            | Q(
                status=OpportunityStatus.OPEN,
                expected_close_date__gte=date_from,
                expected_close_date__lte=date_to,
            )
        )
        .order_by()
        .values_list("status", "currency")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            weighted=Sum(F("amount") * F("probability"), output_field=WEIGHTED),
        )
    )
    for status, code, n, total, weighted in rows:
        if status == OpportunityStatus.WON:
            won_count += n
            by_currency[code]["won"] = total or Decimal(0)
        else:
            open_count += n
            by_currency[code]["open_pipeline"] = total or Decimal(0)
            by_currency[code]["weighted_pipeline"] = (weighted or Decimal(0)) / HUNDRED
    overlapping = SalesTarget.objects.filter(_overlapping(date_from, date_to)).order_by()
    fields = ("period_start", "period_end", "amount", "currency")
    if subject.team is None:
        own = overlapping.filter(user_id=subject.user.pk).values_list(*fields)
    else:
        own = overlapping.filter(team_id=subject.team.pk).values_list(*fields)
        members = overlapping.filter(user__team_id__in=subject.team_ids).values_list(*fields)
        for code, amount in prorated(members, date_from, date_to).items():
            by_currency[code]["members_target"] = amount
    own_rows = list(own)
    for code, amount in prorated(own_rows, date_from, date_to).items():
        by_currency[code]["target"] = amount
    totals, unconverted = _convert_figures(by_currency, convert)

    def figure(name: str) -> Decimal:
        return money(totals.get(name, Decimal(0)), currency)

    won = figure("won")
    weighted = figure("weighted_pipeline")
    has_target = bool(own_rows) and any("target" in f for f in by_currency.values())
    target = figure("target") if has_target else None
    members_target = None
    if subject.team is not None and any("members_target" in f for f in by_currency.values()):
        members_target = figure("members_target")
    elapsed = None
    run_rate = None
    if day >= date_from:
        elapsed_days = _days(date_from, min(day, date_to))
        elapsed = Decimal(elapsed_days) / _days(date_from, date_to)
        run_rate = money(totals.get("won", Decimal(0)) * _days(date_from, date_to) / elapsed_days, currency)
    result = won + weighted
    return Forecast(
        subject=subject,
        date_from=date_from,
        date_to=date_to,
        currency=currency,
        today=day,
        rate_date=rate_date,
        target=target,
        members_target=members_target,
        won=won,
        won_count=won_count,
        open_pipeline=figure("open_pipeline"),
        open_count=open_count,
        weighted_pipeline=weighted,
        forecast=result,
        elapsed_share=elapsed,
        run_rate=run_rate,
        gap_to_target=None if target is None else target - result,
        run_rate_gap=None if target is None or run_rate is None else target - run_rate,
        attainment=_percent(won, target),
        unconverted=unconverted,
    )


def _percent(part: Decimal | int, whole: Decimal | int | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- the funnel ---------------------------------------------------------------------------------------
@dataclass
class FunnelStage:
    stage: Stage
    entered: int = 0  # deals that entered the stage in the period
    advanced: int | None = None  # of those, the deals that later reached a further stage (open stages)
    conversion: Decimal | None = None  # advanced / entered, percent
    left: int = 0  # moves out of the stage in the period (the time samples)
    average_seconds: int | None = None
    median_seconds: int | None = None

    @property
    def kind(self) -> str:
        return self.stage.kind


@dataclass
class Funnel:
    pipeline: Pipeline
    date_from: dt.date
    date_to: dt.date
    stages: list[FunnelStage]
    won: int
    lost: int
    win_rate: Decimal | None  # won / (won + lost), percent
    overall: Decimal | None  # won / entered the first stage, percent

    @property
    def widest(self) -> int:
        return max((s.entered for s in self.stages), default=0)


def funnel(*, user: Any, pipeline: Pipeline, date_from: dt.date, date_to: dt.date) -> Funnel:
    """Per stage of ``pipeline`` in order: the deals (that ``user`` sees) that entered it in the period, the
    share of them that went on to a further stage, and the time deals that left it in the period had
    spent in it (average, median). Four queries whatever the number of deals: the stages, the entries with
    their conversions, the averages, the medians."""
    require_permission(user, OPPORTUNITY, VIEW)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    rows = {s.pk: FunnelStage(stage=s) for s in stages}
    start, end = _bounds(date_from, date_to)
    seen = visible_q(user, OPPORTUNITY, owner="opportunity__owner_id", pk="opportunity_id")
    changes = StageChange.objects.filter(seen, changed_at__gte=start, changed_at__lt=end)
    further = StageChange.objects.filter(
        opportunity_id=OuterRef("opportunity_id"),
        changed_at__gte=OuterRef("changed_at"),
        to_stage__position__gt=OuterRef("to_stage__position"),
        to_stage__kind__in=(StageKind.OPEN, StageKind.WON),
    ).exclude(pk=OuterRef("pk"))
    entries = (
        changes.filter(to_stage__pipeline=pipeline)
        .annotate(went_on=Exists(further))
        .order_by()
        .values_list("to_stage_id")
        .annotate(
            entered=Count("opportunity_id", distinct=True),
            advanced=Count("opportunity_id", distinct=True, filter=Q(went_on=True)),
        )
    )
    for stage_id, entered, advanced in entries:
        row = rows[stage_id]
        row.entered = entered
        if row.stage.kind == StageKind.OPEN:
            row.advanced = advanced
            row.conversion = _percent(advanced, entered)
    leaving = changes.filter(from_stage__pipeline=pipeline, seconds_in_previous__isnull=False).order_by()
    for stage_id, n, average in leaving.values_list("from_stage_id").annotate(
        n=Count("id"), average=Avg("seconds_in_previous")
    ):
        rows[stage_id].left = n
        rows[stage_id].average_seconds = round(average) if average is not None else None
    for stage_id, median in _medians(leaving).items():
        rows[stage_id].median_seconds = median
    won = sum(r.entered for r in rows.values() if r.kind == StageKind.WON)
    lost = sum(r.entered for r in rows.values() if r.kind == StageKind.LOST)
    first = next((rows[s.pk] for s in stages if s.kind == StageKind.OPEN), None)
    return Funnel(
        pipeline=pipeline,
        date_from=date_from,
        date_to=date_to,
        stages=[rows[s.pk] for s in stages],
        won=won,
        lost=lost,
        win_rate=_percent(won, won + lost),
        overall=_percent(won, first.entered) if first is not None else None,
    )


def _medians(leaving: QuerySet[StageChange]) -> dict[int, int]:
    """The median of ``seconds_in_previous`` per stage left, in one query: each row numbered within its
    stage in order of time, with the stage's count; only the middle row (or the two middle rows) is read."""
    numbered = leaving.annotate(
        position=Window(
            RowNumber(),
            partition_by=[F("from_stage_id")],
            order_by=[F("seconds_in_previous").asc(), F("id").asc()],
        ),
        count=Window(Count("id"), partition_by=[F("from_stage_id")]),
    )
    middle = numbered.filter(Q(position=(F("count") + 1) / 2) | Q(position=F("count") / 2 + 1))
    values: dict[int, list[int]] = defaultdict(list)
    for stage_id, seconds in middle.values_list("from_stage_id", "seconds_in_previous"):
        values[stage_id].append(int(seconds or 0))
    return {stage_id: round(sum(found) / len(found)) for stage_id, found in values.items()}


# --- the leaderboard ----------------------------------------------------------------------------------
@dataclass
class LeaderRow:
    user_id: int
    name: str
    won: Decimal = Decimal(0)
    won_count: int = 0
    lost_count: int = 0
    win_rate: Decimal | None = None  # won / (won + lost) deals, percent
    open_pipeline: Decimal = Decimal(0)
    open_count: int = 0
    target: Decimal | None = None
    attainment: Decimal | None = None  # won / target, percent
    missing_rates: list[str] = field(default_factory=list)


@dataclass
class Leaderboard:
    date_from: dt.date
    date_to: dt.date
    currency: str
    rate_date: dt.date
    rows: list[LeaderRow]
    missing_rates: list[str]


def leaderboard(
    *, user: Any, date_from: dt.date, date_to: dt.date, currency: str, today: dt.date | None = None
) -> Leaderboard:
    """Per person ``user`` may ask about: won amount and count, win rate, open pipeline and target
    attainment in the period, best first (formulas in docs/sales-forecast.md). People in reach are all
    listed; one who sees everybody gets the people with a figure or a target in the period. Queries: one
    grouped read of the deals, one of the targets, one of the people, and the exchange rates."""
    require_permission(user, OPPORTUNITY, VIEW)
    everyone = sees_all_people(user)
    day = today or current_day()
    rate_date = min(day, date_to)
    convert = Converter(currency, rate_date)
    start, end = _bounds(date_from, date_to)
    reach = reach_of(user)
    deals = opportunities_for(user).filter(
        Q(status__in=(OpportunityStatus.WON, OpportunityStatus.LOST), closed_at__gte=start, closed_at__lt=end)
        | Q(
            status=OpportunityStatus.OPEN,
            expected_close_date__gte=date_from,
            expected_close_date__lte=date_to,
        ),
        owner_id__isnull=False,
    )
    targets = SalesTarget.objects.filter(_overlapping(date_from, date_to), user_id__isnull=False)
    if not everyone:
        deals = deals.filter(owner_id__in=reach)
        targets = targets.filter(user_id__in=reach)
    won_q, lost_q, open_q = (Q(status=s) for s in (StageKind.WON, StageKind.LOST, StageKind.OPEN))
    figures: dict[int, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for owner_id, code, won_sum, won_n, lost_n, open_sum, open_n in (
        deals.order_by()
        .values_list("owner_id", "currency")
        .annotate(
            won_sum=Sum("amount", filter=won_q),
            won_n=Count("id", filter=won_q),
            lost_n=Count("id", filter=lost_q),
            open_sum=Sum("amount", filter=open_q),
            open_n=Count("id", filter=open_q),
        )
    ):
        figures[owner_id][code]["won"] = won_sum or Decimal(0)
        figures[owner_id][code]["open_pipeline"] = open_sum or Decimal(0)
        tally = counts[owner_id]
        tally[0] += won_n
        tally[1] += lost_n
        tally[2] += open_n
    by_user: dict[int, list[tuple[dt.date, dt.date, Decimal, str]]] = defaultdict(list)
    for user_id, *target in targets.order_by().values_list(
        "user_id", "period_start", "period_end", "amount", "currency"
    ):
        by_user[user_id].append(tuple(target))  # type: ignore[arg-type]
    for user_id, rows in by_user.items():
        for code, amount in prorated(rows, date_from, date_to).items():
            figures[user_id][code]["target"] = amount
    wanted = set(figures)
    people = (
        get_user_model().objects.filter(pk__in=wanted)
        if everyone
        else get_user_model().objects.filter(Q(pk__in=reach, is_active=True) | Q(pk__in=wanted))
    )
    board_rows: list[LeaderRow] = []
    for pk, username, display_name, first, last in people.order_by().values_list(
        "pk", "username", "display_name", "first_name", "last_name"
    ):
        name = display_name or f"{first} {last}".strip() or username
        row = LeaderRow(user_id=pk, name=name)
        totals, unconverted = _convert_figures(figures.get(pk, {}), convert)
        row.won = money(totals.get("won", Decimal(0)), currency)
        row.open_pipeline = money(totals.get("open_pipeline", Decimal(0)), currency)
        if pk in by_user and any("target" in f for f in figures[pk].values()):
            row.target = money(totals.get("target", Decimal(0)), currency)
        row.won_count, row.lost_count, row.open_count = counts.get(pk, [0, 0, 0])
        row.win_rate = _percent(row.won_count, row.won_count + row.lost_count)
        row.attainment = _percent(row.won, row.target)
        row.missing_rates = [u.currency for u in unconverted]
        board_rows.append(row)
    board_rows.sort(key=lambda r: (-r.won, -(r.win_rate or 0), r.name.casefold(), r.user_id))
    return Leaderboard(
        date_from=date_from,
        date_to=date_to,
        currency=currency,
        rate_date=rate_date,
        rows=board_rows,
        missing_rates=convert.missing,
    )
