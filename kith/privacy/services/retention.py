"""Retention rules and the daily review that flags inactive customers (and, for rules that say so,
anonymises those still inactive a grace period after they were flagged).

Nothing is erased on the day a customer first matches: a rule with action "flag" only ever flags, for a
human to erase from the report or to keep; a rule with action "anonymise" erases a customer once their
flag has been open for ``grace_days`` (at least 7) and they still match, so someone can review and keep
them before that. Flags whose customer became active again are removed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.parties.choices import CustomerStatus
from kith.parties.models import Customer
from kith.privacy.choices import ErasureVia, FlagState, RetentionAction
from kith.privacy.models import RetentionFlag, RetentionRule
from kith.privacy.selectors.retention import matching_customers
from kith.privacy.services.erasure import anonymise
from kith.security import rules

BATCH = 1000


def _number(value: Any, field: str, low: int, high: int, errors: dict[str, list[str]]) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = [_("Enter a whole number.")]
        return None
    if not low <= number <= high:
        errors[field] = [_("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}]
        return None
    return number


def _clean_rule(data: dict[str, Any], *, base: RetentionRule | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if base is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Give the rule a name.")]
        elif len(name) > 100:
            errors["name"] = [_("At most 100 characters.")]
        elif RetentionRule.objects.filter(name=name).exclude(pk=base.pk if base else 0).exists():
            errors["name"] = [_("Another rule has this name.")]
        values["name"] = name
    if base is None or "status" in data:
        if data.get("status") not in CustomerStatus.values:
            errors["status"] = [_("Choose a customer status.")]
        values["status"] = data.get("status")
    if base is None or "inactive_months" in data:
        values["inactive_months"] = _number(data.get("inactive_months"), "inactive_months", 1, 600, errors)
    if "action" in data or base is None:
        action = data.get("action") or RetentionAction.FLAG
        if action not in RetentionAction.values:
            errors["action"] = [_("Choose what the rule does.")]
        values["action"] = action
    if "grace_days" in data and data["grace_days"] not in (None, ""):
        values["grace_days"] = _number(data.get("grace_days"), "grace_days", 7, 3650, errors)
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def rule_create(*, actor: Any, data: dict[str, Any]) -> RetentionRule:
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    return RetentionRule.objects.create(**_clean_rule(data, base=None))


@transaction.atomic
def rule_update(*, actor: Any, rule: RetentionRule, data: dict[str, Any]) -> RetentionRule:
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    for field, value in _clean_rule(data, base=rule).items():
        setattr(rule, field, value)
    rule.save()
    return rule


@transaction.atomic
def flags_keep(*, actor: Any, rule: RetentionRule, customers: list[Customer]) -> int:
    """A human reviewed these matches and keeps them: they are not flagged again while they match."""
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    kept = 0
    for customer in customers:
        RetentionFlag.objects.update_or_create(
            rule=rule,
            customer=customer,
            defaults={"state": FlagState.KEPT, "resolved_at": now, "resolved_by": user},
            create_defaults={
                "state": FlagState.KEPT,
                "flagged_at": now,
                "resolved_at": now,
                "resolved_by": user,
            },
        )
        kept += 1
    return kept


def _flag_matches(rule: RetentionRule, now: dt.datetime) -> int:
    """Flag every current match of ``rule`` that has no flag yet; returns the number of new flags."""
    matches = matching_customers(rule, system=True, now=now).order_by("pk")
    before = RetentionFlag.objects.filter(rule=rule).count()
    after = 0
    while True:
        ids = list(matches.filter(pk__gt=after).values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        with transaction.atomic():
            RetentionFlag.objects.bulk_create(
                [RetentionFlag(rule=rule, customer_id=pk, flagged_at=now) for pk in ids],
                ignore_conflicts=True,
            )
        after = ids[-1]
    return RetentionFlag.objects.filter(rule=rule).count() - before


def _drop_stale_flags(rule: RetentionRule, now: dt.datetime) -> int:
    """Remove open and kept flags of customers that no longer match (they became active again)."""
    flags = RetentionFlag.objects.filter(rule=rule, state__in=[FlagState.OPEN, FlagState.KEPT]).order_by("pk")
    dropped, after = 0, 0
    while True:
        batch = list(flags.filter(pk__gt=after).values_list("pk", "customer_id")[:BATCH])
        if not batch:
            return dropped
        customer_ids = [c for _pk, c in batch]
        still = set(
            matching_customers(rule, system=True, now=now)
            .filter(pk__in=customer_ids)
            .values_list("pk", flat=True)
        )
        stale = [pk for pk, c in batch if c not in still]
        if stale:
            with transaction.atomic():
                dropped += RetentionFlag.objects.filter(pk__in=stale).delete()[0]
        after = batch[-1][0]


def _auto_anonymise(rule: RetentionRule, now: dt.datetime) -> int:
    due = RetentionFlag.objects.filter(
        rule=rule, state=FlagState.OPEN, flagged_at__lte=now - dt.timedelta(days=rule.grace_days)
    ).values_list("customer_id", flat=True)
    reason = _("Retention rule “%(rule)s”: no activity for %(months)d months.") % {
        "rule": rule.name,
        "months": rule.inactive_months,
    }
    erased = 0
    for customer in matching_customers(rule, system=True, now=now).filter(pk__in=list(due)):
        anonymise(actor=None, customer=customer, reason=reason, via=ErasureVia.RETENTION_AUTO, rule=rule)
        erased += 1
    return erased


def retention_review(*, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """The daily job: for every active rule, drop stale flags, flag new matches, erase what is due."""
    now = now or timezone.now()
    report: dict[str, dict[str, int]] = {}
    for rule in RetentionRule.objects.filter(is_active=True).order_by("pk"):
        result = {"dropped": _drop_stale_flags(rule, now), "flagged": _flag_matches(rule, now), "erased": 0}
        if rule.action == RetentionAction.ANONYMISE:
            result["erased"] = _auto_anonymise(rule, now)
        RetentionRule.objects.filter(pk=rule.pk).update(last_run_at=now)
        report[rule.name] = result
    return report
