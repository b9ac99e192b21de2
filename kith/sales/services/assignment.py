"""Who gets a new lead without an owner: the lead assignment rules (their administration and the rule
itself).

The first active rule by ``(position, id)`` whose conditions all match the lead wins (an empty condition
matches everything): territory equal ignoring case; category the rule's or one below it in the same tree
(by the category's ``path``, as price lists match a customer group); source equal. The rule gives the
lead to one of its *active* users: ``first`` always the one with the smallest id; ``round_robin`` the user
after ``last_user_id`` by id, wrapping to the smallest. The rule row is locked (``select_for_update``)
while its turn moves on, so two leads arriving together get two different users. No rule matching (or a
rule whose users are all inactive) leaves the lead unassigned: it shows under the "unassigned" filter.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.audit.capture import suppressed
from kith.core.errors import ConflictError
from kith.parties.models import Category
from kith.sales.choices import LEAD, AssignmentMethod, LeadSource
from kith.sales.models import Lead, LeadAssignmentRule
from kith.security.rules import ADMINISTER, require_permission

RULE_FIELDS = ("name", "position", "is_active", "territory", "category", "source", "method", "users")


def _require(actor: Any) -> None:
    if actor is not None:
        require_permission(actor, LEAD, ADMINISTER)


def category_matches(rule_category: Category | None, lead_category: Category | None) -> bool:
    """The lead's category is the rule's or one below it (no rule category: any lead)."""
    if rule_category is None:
        return True
    if lead_category is None:
        return False
    if rule_category.tree_id != lead_category.tree_id:
        return False
    return lead_category.path == rule_category.path or lead_category.path.startswith(rule_category.path + "/")


def rule_matches(rule: LeadAssignmentRule, lead: Lead) -> bool:
    if rule.territory and rule.territory.strip().casefold() != (lead.territory or "").strip().casefold():
        return False
    if rule.source and rule.source != lead.source:
        return False
    return category_matches(rule.category, lead.category)


def matching_rule(lead: Lead) -> LeadAssignmentRule | None:
    rules = (
        LeadAssignmentRule.objects.filter(is_active=True)
        .select_related("category")
        .order_by("position", "id")
    )
    for rule in rules:
        if rule_matches(rule, lead):
            return rule
    return None


def _active_user_ids(rule: LeadAssignmentRule) -> list[int]:
    return sorted(rule.users.filter(is_active=True).values_list("pk", flat=True))


def next_user_id(rule: LeadAssignmentRule) -> int | None:
    """The user who gets the next lead of ``rule`` and, for round robin, the turn moved on (the rule row
    locked until the transaction ends: concurrent assignments queue here)."""
    with transaction.atomic():
        locked = LeadAssignmentRule.objects.select_for_update().get(pk=rule.pk)
        ids = _active_user_ids(locked)
        if not ids:
            return None
        if locked.method == AssignmentMethod.FIRST:
            return ids[0]
        last = locked.last_user_id
        chosen = next((pk for pk in ids if last is None or pk > last), ids[0])
        # the turn is bookkeeping, not an edit of the rule: its version stays and it is not audited
        # (the lead's owner, which is, says who got it)
        with suppressed():
            LeadAssignmentRule.objects.filter(pk=locked.pk).update(last_user_id=chosen)
        rule.last_user_id = chosen
        return chosen


def assign_new_lead(lead: Lead) -> int | None:
    """The owner id the rules give ``lead`` (not saved), or None when no rule gives one."""
    rule = matching_rule(lead)
    if rule is None:
        return None
    return next_user_id(rule)


# --- administration -------------------------------------------------------------------------------


def _clean(
    data: dict[str, Any], *, base: LeadAssignmentRule | None
) -> tuple[dict[str, Any], list[Any] | None]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    wanted = [f for f in RULE_FIELDS if base is None or f in data]
    if "name" in wanted:
        values["name"] = str(data.get("name") or "").strip()
        if not values["name"]:
            errors["name"] = [_("Give the rule a name.")]
        elif len(values["name"]) > 100:
            errors["name"] = [_("At most %(n)d characters.") % {"n": 100}]
    if "position" in wanted:
        raw = data.get("position")
        try:
            values["position"] = int(raw if raw not in (None, "") else 0)
            if not 0 <= values["position"] <= 2**31 - 1:
                raise ValueError
        except (TypeError, ValueError):
            errors["position"] = [_("Enter a whole number, 0 or more.")]
    if "is_active" in wanted:
        values["is_active"] = bool(data.get("is_active", True))
    if "territory" in wanted:
        values["territory"] = str(data.get("territory") or "").strip()
        if len(values["territory"]) > 50:
            errors["territory"] = [_("At most %(n)d characters.") % {"n": 50}]
    if "category" in wanted:
        category = data.get("category")
        if category in (None, ""):
            values["category"] = None
        elif isinstance(category, Category):
            values["category"] = category
        else:
            found = Category.objects.filter(pk=int(category)).first() if str(category).isdigit() else None
            if found is None:
                errors["category"] = [_("There is no such category.")]
            values["category"] = found
    if "source" in wanted:
        values["source"] = str(data.get("source") or "")
        if values["source"] and values["source"] not in LeadSource.values:
            errors["source"] = [_("“%(value)s” is not a valid choice.") % {"value": values["source"]}]
    if "method" in wanted:
        values["method"] = str(data.get("method") or AssignmentMethod.ROUND_ROBIN)
        if values["method"] not in AssignmentMethod.values:
            errors["method"] = [_("“%(value)s” is not a valid choice.") % {"value": values["method"]}]
    users: list[Any] | None = None
    if "users" in wanted:
        raw_users = list(data.get("users") or [])
        ids = [getattr(u, "pk", u) for u in raw_users]
        if not all(isinstance(i, int) or str(i).isdigit() for i in ids):
            errors["users"] = [_("Choose users from the list.")]
        else:
            wanted_ids = {int(i) for i in ids}
            users = list(get_user_model().objects.filter(pk__in=wanted_ids, is_active=True))
            if len(users) != len(wanted_ids):
                errors["users"] = [_("Every user of a rule must be an active user.")]
            elif not users:
                errors["users"] = [_("Choose at least one user to give the leads to.")]
    if errors:
        raise ValidationError(errors)
    return values, users


@transaction.atomic
def rule_create(*, actor: Any, data: dict[str, Any]) -> LeadAssignmentRule:
    _require(actor)
    values, users = _clean(data, base=None)
    rule = LeadAssignmentRule.objects.create(**values)
    rule.users.set(users or [])
    return rule


@transaction.atomic
def rule_update(
    *, actor: Any, rule: LeadAssignmentRule, data: dict[str, Any], expected_version: int | None = None
) -> LeadAssignmentRule:
    _require(actor)
    values, users = _clean(data, base=rule)
    version = rule.version if expected_version is None else int(expected_version)
    now = timezone.now()
    if not LeadAssignmentRule.objects.filter(pk=rule.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    ):
        raise ConflictError()
    for field, value in values.items():
        setattr(rule, field, value)
    rule.version, rule.updated_at = version + 1, now
    if users is not None:
        rule.users.set(users)
    return rule


@transaction.atomic
def rule_delete(*, actor: Any, rule: LeadAssignmentRule) -> None:
    _require(actor)
    rule.delete()
