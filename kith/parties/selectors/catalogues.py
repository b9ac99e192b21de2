"""Reads of the admin catalogues (custom fields, classification, tags, roles, relationship types) and of
the users who can be account managers, for forms, filters and the settings pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from kith.parties.models import (
    Category,
    CategoryTree,
    CustomFieldDefinition,
    PartyRole,
    RelationshipType,
    Tag,
)


def account_managers() -> list[Any]:
    """Active users who can own customers, in display order (one query)."""
    user_model = get_user_model()
    users = list(
        user_model.objects.filter(is_active=True).only(
            "id", "username", "display_name", "first_name", "last_name"
        )
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
