"""Reads of opportunities, pipelines and approvals; every read of deals is scoped by
``visible_q(user, "opportunity")`` (owner hierarchy, shares, organisation default, role permission)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from kith.sales.choices import OPPORTUNITY, OpportunityStatus, StageKind
from kith.sales.models import Approval, CloseReason, Opportunity, Pipeline, Stage, StageChange
from kith.security import masking
from kith.security.masking import may_filter_by
from kith.security.models import FieldAccess
from kith.security.rules import VIEW, require_permission
from kith.security.selectors import visible_q

# ordering keys the list and the API accept (a leading "-" reverses)
ORDERINGS = ("name", "amount", "expected_close_date", "created_at", "updated_at", "probability")
BOARD_CARDS = 50  # cards shown per column; the rest are behind an "and N more" link
CARD_FIELDS = (
    "id",
    "version",
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "stage_id",
    "pipeline_id",
    "customer__customer_number",
    "customer__display_name",
    "owner__username",
    "owner__display_name",
)


def opportunities_for(user: Any, *, write: bool = False) -> QuerySet[Opportunity]:
    """Every deal ``user`` may see (``write``: change)."""
    require_permission(user, OPPORTUNITY, VIEW)
    return Opportunity.objects.filter(visible_q(user, OPPORTUNITY, write=write))


def opportunity_for(user: Any, pk: Any, *, write: bool = False) -> Opportunity:
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    row = (
        opportunities_for(user, write=write)
        .select_related("customer", "owner", "pipeline", "stage", "close_reason", "lead", "created_by")
        .filter(pk=key)
        .first()
    )
    if row is None:
        raise Http404
    return row


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def opportunity_list(
    *,
    user: Any,
    q: str = "",
    pipeline: Any = None,
    stage: Any = None,
    status: str = "",
    owner: Any = None,
    customer: str = "",
    close_from: Any = None,
    close_to: Any = None,
    ordering: str = "-created_at",
) -> QuerySet[Opportunity]:
    """Visible deals filtered by pipeline, stage, status, owner (a user id), customer number, expected close
    date range and text (name or customer name starting with ``q``), ordered by ``ordering``. A field
    ``user``'s field rules hide (``masking.may_filter_by``) is no search key, filter or ordering for them:
    the rows found or their order would tell its values."""
    rows = opportunities_for(user)

    def seen(name: str) -> bool:
        return may_filter_by(user, OPPORTUNITY, name)

    text = q.strip()
    if text:
        condition = Q(pk__in=[])
        if seen("name"):
            condition |= Q(name__icontains=text)
        if seen("customer"):
            condition |= Q(customer__display_name__istartswith=text) | Q(customer__customer_number=text)
        rows = rows.filter(condition)
    if (key := _int(pipeline)) is not None:
        rows = rows.filter(pipeline_id=key)
    if (key := _int(stage)) is not None:
        rows = rows.filter(stage_id=key)
    if status in OpportunityStatus.values:
        rows = rows.filter(status=status)
    if (key := _int(owner)) is not None and seen("owner"):
        rows = rows.filter(owner_id=key)
    if customer.strip() and seen("customer"):
        rows = rows.filter(customer__customer_number=customer.strip())
    if (day := _date(close_from)) is not None and seen("expected_close_date"):
        rows = rows.filter(expected_close_date__gte=day)
    if (day := _date(close_to)) is not None and seen("expected_close_date"):
        rows = rows.filter(expected_close_date__lte=day)
    key_name = ordering.lstrip("-")
    if key_name not in ORDERINGS or not seen(key_name):
        key_name, ordering = "created_at", "-created_at"
    descending = ordering.startswith("-")
    return rows.select_related("customer", "owner", "stage", "pipeline").order_by(
        f"-{key_name}" if descending else key_name, "-id" if descending else "id"
    )


def opportunities_of_customer(user: Any, customer: Any) -> QuerySet[Opportunity]:
    return opportunities_for(user).filter(customer=customer).select_related("stage", "owner")


def stage_history(opportunity: Opportunity) -> list[StageChange]:
    return list(
        StageChange.objects.filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def approvals_of(opportunity: Opportunity) -> list[Approval]:
    return list(
        Approval.objects.filter(opportunity=opportunity)
        .select_related("requested_by", "approver", "decided_by")
        .order_by("-created_at", "-id")
    )


# --- pipelines ----------------------------------------------------------------------------------------
def pipelines(*, active_only: bool = False) -> QuerySet[Pipeline]:
    rows = Pipeline.objects.all()
    if active_only:
        rows = rows.filter(is_active=True)
    return rows.order_by("-is_default", "name", "id")


def pipeline_get(pk: Any) -> Pipeline:
    row = Pipeline.objects.filter(pk=_int(pk) or 0).first()
    if row is None:
        raise Http404
    return row


def board_pipeline(pk: Any = None) -> Pipeline | None:
    """The pipeline the board shows: ``pk`` when it names one, else the default (else the first active)."""
    if (key := _int(pk)) is not None:
        row = Pipeline.objects.filter(pk=key).first()
        if row is not None:
            return row
    return pipelines(active_only=True).first()


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))


def close_reasons(kind: str = "", *, active_only: bool = True) -> QuerySet[CloseReason]:
    rows = CloseReason.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    if active_only:
        rows = rows.filter(is_active=True)
    return rows.order_by("kind", "name", "id")


def stage_usage(pipeline: Pipeline) -> dict[int, int]:
    """How many deals are in each stage of ``pipeline`` (whoever owns them: for administrators)."""
    return dict(
        Opportunity.objects.filter(pipeline=pipeline)
        .values_list("stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )


# --- the board ----------------------------------------------------------------------------------------
@dataclass
class Card:
    id: int
    version: int
    name: str
    amount: Decimal
    currency: str
    expected_close_date: dt.date | None
    stage_id: int
    customer_number: str
    customer_name: str
    owner: str


@dataclass
class Column:
    stage: Stage
    count: int = 0
    totals: list[tuple[str, Decimal]] = field(default_factory=list)  # (currency, sum), by currency
    cards: list[Card] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    stages: list[Stage]  # every stage (the "Move to" menus also offer won and lost)


def _card(row: dict[str, Any]) -> Card:
    return Card(
        id=row["id"],
        version=row["version"],
        name=row["name"],
        amount=row["amount"],
        currency=row["currency"],
        expected_close_date=row["expected_close_date"],
        stage_id=row["stage_id"],
        customer_number=row["customer__customer_number"],
        customer_name=row["customer__display_name"],
        owner=row["owner__display_name"] or row["owner__username"] or "",
    )


def board(*, user: Any, pipeline: Pipeline, owner: Any = None, cards: int = BOARD_CARDS) -> Board:
    """The open deals of ``pipeline`` that ``user`` sees, per open stage: the count, the sums by currency
    and the first ``cards`` cards (highest amount first). Three queries whatever the number of deals: the
    stages, one grouped count/sum, and one query of the cards (a UNION of one LIMITed query per stage, each
    walking ``sales_opp_board_idx``: pipeline, status, stage, -amount, id)."""
    stages = stages_of(pipeline)
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    columns = {s.pk: Column(stage=s) for s in open_stages}
    base = opportunities_for(user).filter(pipeline_id=pipeline.pk, status=OpportunityStatus.OPEN)
    if (key := _int(owner)) is not None:
        base = base.filter(owner_id=key)
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for stage_id, currency, count, total in (
        base.order_by().values_list("stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"))
    ):
        if stage_id in columns:
            columns[stage_id].count += count
            totals[stage_id][currency] = total or Decimal(0)
    for stage_id, by_currency in totals.items():
        columns[stage_id].totals = sorted(by_currency.items())
    wanted = [s.pk for s in open_stages if columns[s.pk].count]
    if wanted and cards > 0:
        # a reader whose field rules hide the amount does not get the cards in amount order either
        by_amount = masking.field_access(user, OPPORTUNITY, "amount") != FieldAccess.HIDDEN
        for row in _cards(base, wanted, cards, by_amount=by_amount):
            columns[row["stage_id"]].cards.append(_card(row))
    return Board(pipeline=pipeline, columns=[columns[s.pk] for s in open_stages], stages=stages)


def _cards(
    base: QuerySet[Opportunity], stage_ids: list[int], limit: int, *, by_amount: bool = True
) -> list[dict[str, Any]]:
    """The first ``limit`` cards of each stage (highest amount first; without ``by_amount``, the nearest
    expected close first) in one query: a UNION ALL of one LIMITed query per stage, each walking
    ``sales_opp_board_idx`` (amount order). Written out because Django does not
    build a UNION of LIMITed queries on SQLite; each part stays in parentheses as a derived table, which
    both SQLite and PostgreSQL accept."""
    parts: list[str] = []
    params: list[Any] = []
    for stage_id in stage_ids:
        order = ("-amount", "id") if by_amount else ("expected_close_date", "id")
        part = base.filter(stage_id=stage_id).order_by(*order).values_list(*CARD_FIELDS)[:limit]
        sql, part_params = part.query.get_compiler(using=part.db).as_sql()
        parts.append(f"SELECT * FROM ({sql}) AS part_{len(parts)}")  # noqa: S608 (Django's own SQL, parameters apart)
        params.extend(part_params)
    with connections[base.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = [dict(zip(CARD_FIELDS, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:  # SQLite gives the amount of a raw query back as a float or int
        row["amount"] = Decimal(str(row["amount"])).quantize(Decimal("0.01"))
        if isinstance(row["expected_close_date"], str):
            row["expected_close_date"] = dt.date.fromisoformat(row["expected_close_date"][:10])
    if by_amount:
        rows.sort(key=lambda r: (-r["amount"], r["id"]))
    else:
        rows.sort(
            key=lambda r: (r["expected_close_date"] is None, r["expected_close_date"] or dt.date.min, r["id"])
        )
    return rows


# --- approvals ----------------------------------------------------------------------------------------
def approval_get(user: Any, pk: Any) -> Approval:
    """One approval ``user`` may see: of a deal they see, or one they may decide."""
    from kith.sales.services.approvals import can_decide

    row = (
        Approval.objects.select_related("opportunity", "opportunity__owner", "requested_by", "approver")
        .filter(pk=_int(pk) or 0)
        .first()
    )
    if row is None:
        raise Http404
    if can_decide(user, row) or row.requested_by_id == getattr(user, "pk", None):
        return row
    if opportunities_for(user).filter(pk=row.opportunity_id).exists():
        return row
    raise Http404
