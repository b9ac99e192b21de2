"""Reads of the admin catalogues (custom fields, classification, tags, roles, relationship types) and of
the users who can be account managers, for forms, filters and the settings pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from kith.parties.models import (
    Category,
    CategoryTree,
    CustomFieldDefinition,
    PartyRole,
    RelationshipType,
    Tag,
)

OWNER_CHOICES_CAP = 200  # longer lists of people are cut to the viewer, their reports and the chosen


def account_managers(viewer: Any = None, *, include: Iterable[int | None] = ()) -> list[Any]:
    """Active users who can own customers, in display order, as offered to ``viewer``: those within their
    reach when they see only part of the customers; at most OWNER_CHOICES_CAP, beyond which the viewer,
    their direct reports and the ``include``d users (the current choice) are offered."""
    from kith.security.selectors import holding, sees_everything

    user_model = get_user_model()
    active = user_model.objects.filter(is_active=True)
    qs = active
    if viewer is not None and not sees_everything(viewer, "customer"):
        qs = qs.filter(pk__in=holding(viewer).reach)
    if qs.count() > OWNER_CHOICES_CAP and viewer is not None:
        qs = qs.filter(Q(pk=viewer.pk) | Q(manager_id=viewer.pk))
    chosen = [i for i in include if i]
    if chosen:  # the current choice stays on offer, even outside the viewer's reach
        qs = active.filter(Q(pk__in=qs.values("pk")) | Q(pk__in=chosen))
    users = list(
        qs.only("id", "username", "display_name", "first_name", "last_name")[: OWNER_CHOICES_CAP * 2]
    )
    users.sort(key=lambda u: str(u).casefold())
    return users


def custom_field_definitions(*, include_retired: bool = True) -> QuerySet[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.all()
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.order_by("position", "label")


def category_trees() -> QuerySet[CategoryTree]:
    return CategoryTree.objects.order_by("name")


def categories(*, tree: CategoryTree | None = None, include_retired: bool = False) -> QuerySet[Category]:
    qs = Category.objects.select_related("tree")
    if tree is not None:
        qs = qs.filter(tree=tree)
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.order_by("tree__name", "path")


def roles(*, include_retired: bool = False) -> QuerySet[PartyRole]:
    qs = PartyRole.objects.all()
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.order_by("name")


def relationship_types(*, include_retired: bool = False) -> QuerySet[RelationshipType]:
    qs = RelationshipType.objects.all()
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.order_by("name")


def tags() -> QuerySet[Tag]:
    return Tag.objects.order_by("name_key")
