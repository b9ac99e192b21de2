"""Reading likely duplicates: the open pairs a user may see both customers of, best first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from kith.parties.models import Customer, DuplicateCandidate, DuplicateStatus
from kith.parties.selectors.customers import customers_for
from kith.parties.services.duplicates import reason_labels
from kith.security.rules import VIEW, has_permission
from kith.security.selectors import sees_everything

PAGE = 50


@dataclass
class Pair:
    """One open pair; of its customers only the number, name and version are read."""

    candidate: DuplicateCandidate
    first: Customer
    second: Customer
    reasons: list[str]


COUNT_CAP = 1000


def _sees_all(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False)
        and has_permission(user, "customer", VIEW)
        and sees_everything(user, "customer")
    )


def _visible_pairs(user: Any, *, open_only: bool = True) -> QuerySet[DuplicateCandidate]:
    """Pairs whose two customers ``user`` sees. Each side is checked with ``EXISTS`` on the customer's
    primary key, so walking the best-first index stops after one page; ``first_id IN (every visible
    customer)`` made both engines read the whole visible set first (minutes at a million)."""
    if _sees_all(user):
        # no visibility check per pair for one who sees every customer: only that neither was merged (a
        # merge closes its pairs, but a scan running beside it may have written one since)
        qs = DuplicateCandidate.objects.all()
        if open_only:
            qs = qs.filter(
                status=DuplicateStatus.OPEN, first__merged_into__isnull=True, second__merged_into__isnull=True
            )
        return qs
    visible = customers_for(user)
    if open_only:
        visible = visible.filter(merged_into__isnull=True)
    qs = DuplicateCandidate.objects.filter(
        Exists(visible.filter(pk=OuterRef("first_id"))), Exists(visible.filter(pk=OuterRef("second_id")))
    )
    return qs.filter(status=DuplicateStatus.OPEN) if open_only else qs


def _cursor(token: str) -> tuple[int, int] | None:
    score, _sep, pk = token.partition("-")
    return (int(score), int(pk)) if score.isdigit() and pk.isdigit() else None


def open_pairs(user: Any, *, after: str = "", limit: int = PAGE) -> tuple[list[Pair], str]:
    """Open pairs whose two customers ``user`` sees, by score (then id), from the page token ``after``;
    and the token of the next page ("" on the last)."""
    cursor = _cursor(after)
    shown = [
        f"{side}__{name}"
        for side in ("first", "second")
        for name in ("customer_number", "display_name", "version")
    ]
    qs = (
        _visible_pairs(user)
        .select_related("first", "second")
        .only("score", "reasons", "status", "first_id", "second_id", *shown)
        .order_by("-score", "id")
    )
    if cursor is None:
        rows = list(qs[: limit + 1])
    else:  # the rest of the last score, then lower scores: two index reads (an OR of both read them all)
        score, pk = cursor
        rows = list(qs.filter(score=score, id__gt=pk)[: limit + 1])
        if len(rows) <= limit:
            rows += qs.filter(score__lt=score)[: limit + 1 - len(rows)]
    pairs = [Pair(c, c.first, c.second, reason_labels(c.reasons)) for c in rows[:limit]]
    more = f"{rows[limit - 1].score}-{rows[limit - 1].pk}" if len(rows) > limit else ""
    return pairs, more


def open_count(user: Any, *, cap: int | None = None) -> int:
    """How many open pairs ``user`` sees, counted up to ``cap + 1`` (the page says "more than ``cap``"):
    an exact count at a million customers would check every pair's two customers."""
    cap = COUNT_CAP if cap is None else cap
    if _sees_all(user):  # past the cap by the index alone (the merged-customer check only matters below it)
        raw = DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).order_by()[: cap + 1].count()
        if raw > cap:
            return raw
    return _visible_pairs(user).order_by()[: cap + 1].count()


def pair_for(user: Any, pk: int) -> DuplicateCandidate | None:
    return _visible_pairs(user, open_only=False).filter(pk=pk).first()
