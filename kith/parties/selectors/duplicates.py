"""Reading likely duplicates: the open pairs a user may see both customers of, best first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kith.parties.models import Customer, DuplicateCandidate, DuplicateStatus
from kith.parties.selectors.customers import customers_for
from kith.parties.services.duplicates import reason_labels

PAGE = 50


@dataclass
class Pair:
    candidate: DuplicateCandidate
    first: Customer
    second: Customer
    reasons: list[str]


def _cursor(token: str) -> tuple[int, int] | None:
    score, _sep, pk = token.partition("-")
    return (int(score), int(pk)) if score.isdigit() and pk.isdigit() else None


def open_pairs(user: Any, *, after: str = "", limit: int = PAGE) -> tuple[list[Pair], str]:
    """Open pairs whose two customers ``user`` sees, by score (then id), from the page token ``after``;
    and the token of the next page ("" on the last)."""
    cursor = _cursor(after)
    visible = customers_for(user).filter(merged_into__isnull=True).values("pk")
    qs = DuplicateCandidate.objects.filter(
        status=DuplicateStatus.OPEN, first_id__in=visible, second_id__in=visible
    ).order_by("-score", "id")
    if cursor is not None:
        score, pk = cursor
        qs = qs.filter(score__lt=score) | qs.filter(score=score, id__gt=pk)
        qs = qs.order_by("-score", "id")
    rows = list(qs.select_related("first", "second")[: limit + 1])
    pairs = [Pair(c, c.first, c.second, reason_labels(c.reasons)) for c in rows[:limit]]
    more = f"{rows[limit - 1].score}-{rows[limit - 1].pk}" if len(rows) > limit else ""
    return pairs, more


def open_count(user: Any) -> int:
    visible = customers_for(user).filter(merged_into__isnull=True).values("pk")
    return DuplicateCandidate.objects.filter(
        status=DuplicateStatus.OPEN, first_id__in=visible, second_id__in=visible
    ).count()


def pair_for(user: Any, pk: int) -> DuplicateCandidate | None:
    visible = customers_for(user).values("pk")
    return DuplicateCandidate.objects.filter(pk=pk, first_id__in=visible, second_id__in=visible).first()
