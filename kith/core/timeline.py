"""The timeline extension point: any app registers its kinds and publishes entries for a subject.

A domain service that creates a business record (an interaction, an order, a ticket ...) calls
``publish(subject=customer, kind="sales.order", ...)`` inside its transaction. The customer page reads one
index table, newest first, with keyset pagination, whatever app wrote the entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kith.core.models import TimelineEntry

# user -> the condition (on TimelineEntry) an entry of the kind meets when that user may see its business
# record, e.g. ``Q(source_id__in=<the ids of the deals the user may see>)``
Visible = Callable[[Any], models.Q]


@dataclass(frozen=True)
class TimelineKind:
    key: str
    label: Any  # a lazy translatable string
    icon: str = "•"
    group: str = ""
    # None: whoever sees the subject sees the entry (its record follows the subject); else the record has
    # visibility of its own (an owner, a permission) and only those who may see it see the entry
    visible: Visible | None = None


_kinds: dict[str, TimelineKind] = {}


def register_kind(
    key: str, label: Any, *, icon: str = "•", group: str = "", visible: Visible | None = None
) -> TimelineKind:
    kind = TimelineKind(key=key, label=label, icon=icon, group=group, visible=visible)
    _kinds[key] = kind
    return kind


def _seen_by(user: Any) -> models.Q | None:
    """The entries ``user`` may see among those of a subject they see (None: all of them)."""
    restricted = [kind for kind in _kinds.values() if kind.visible is not None]
    if not restricted:
        return None
    seen = ~models.Q(kind__in=[kind.key for kind in restricted])
    for kind in restricted:
        seen |= models.Q(kind=kind.key) & kind.visible(user)  # type: ignore[misc]
    return seen


def kinds() -> list[TimelineKind]:
    return list(_kinds.values())


def kind_label(key: str) -> str:
    kind = _kinds.get(key)
    return str(kind.label) if kind else key


def publish(
    *,
    subject: models.Model,
    kind: str,
    occurred_at: dt.datetime,
    title: str,
    summary: str = "",
    actor: Any = None,
    source: models.Model | None = None,
) -> TimelineEntry:
    if kind not in _kinds:
        raise ValueError(f"timeline kind {kind!r} is not registered")
    return TimelineEntry.objects.create(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        kind=kind,
        occurred_at=occurred_at,
        title=title[:300],
        summary=summary,
        actor=actor if getattr(actor, "pk", None) else None,
        source_type=ContentType.objects.get_for_model(source) if source is not None else None,
        source_id=source.pk if source is not None else None,
    )


def update_for_source(source: models.Model, **fields: Any) -> int:
    """Keep the index in step when the business record itself is edited."""
    return TimelineEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(source), source_id=source.pk
    ).update(**fields)


def retract(source: models.Model) -> int:
    deleted, _ = TimelineEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(source), source_id=source.pk
    ).delete()
    return deleted


def move_subject(*, old: models.Model, new: models.Model) -> int:
    """Re-point every entry of one subject to another (used by merges)."""
    ct = ContentType.objects.get_for_model(old)
    return TimelineEntry.objects.filter(subject_type=ct, subject_id=old.pk).update(subject_id=new.pk)


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def _encode_cursor(entry: TimelineEntry) -> str:
    return f"{entry.occurred_at.isoformat()}|{entry.pk}"


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        when, pk = cursor.rsplit("|", 1)
        return dt.datetime.fromisoformat(when), int(pk)
    except (ValueError, TypeError):
        return None


def entries_for(
    subject: models.Model,
    *,
    user: Any,
    kinds: Iterable[str] | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> TimelinePage:
    """Newest first; ``cursor`` continues after the last entry of the previous page (keyset pagination).
    ``user``: who reads (entries of records they may not see are left out); None: the system (a data
    subject's export), every entry."""
    qs = TimelineEntry.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
    ).select_related("actor")
    seen = _seen_by(user) if user is not None else None
    if seen is not None:
        qs = qs.filter(seen)
    kind_list = [k for k in (kinds or []) if k]
    if kind_list:
        qs = qs.filter(kind__in=kind_list)
    position = _decode_cursor(cursor) if cursor else None
    if position:
        when, pk = position
        qs = qs.filter(models.Q(occurred_at__lt=when) | models.Q(occurred_at=when, id__lt=pk))
    rows = list(qs.order_by("-occurred_at", "-id")[: limit + 1])
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return TimelinePage(entries=rows[:limit], next_cursor=next_cursor)
