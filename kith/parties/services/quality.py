"""Data-quality upkeep: admin-defined rules over the customers, a report, a score and bulk fixes.

Each rule kind is one entry of ``KINDS``: a builder of the condition "this customer breaks the rule" (a
``Q`` over ``Customer``) and a checker of its settings. The report and the score count the customers a
user can see, never archived customers nor merged tombstones. Bulk actions run as a background job
(``kith.jobs``) and go through the customer services, so permissions, field rules and the audit trail
apply to every customer, each in its own savepoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.audit.choices import Source
from kith.audit.context import audit_context
from kith.core.errors import DomainError
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties.choices import CustomerKind, CustomerStatus
from kith.parties.models import Customer, DataQualityRule, Email, Interaction, Phone
from kith.parties.selectors.customers import customers_for
from kith.parties.services.customers import (
    customer_delete,
    customer_set_status,
    customer_update,
)
from kith.security.rules import ADMINISTER, DELETE, EDIT, require_permission

BULK_KIND = "customers.quality_bulk"
BATCH = 200
SAMPLE = 20  # customers listed per rule on the report
MAX_YEARS = 50

# master fields a ``missing_field`` rule may check, and the kind of customer that has them ("" = both)
CHECKABLE_FIELDS: dict[str, str] = {
    "owner": "",
    "source": "",
    "channel": "",
    "industry": CustomerKind.COMPANY,
    "legal_name": CustomerKind.COMPANY,
    "short_name": CustomerKind.COMPANY,
    "registration_number": CustomerKind.COMPANY,
    "company_size": CustomerKind.COMPANY,
}


def _no_params(params: dict[str, Any]) -> dict[str, Any]:
    return {}


def _missing_phone(params: dict[str, Any]) -> Q:
    return Q(~Exists(Phone.objects.filter(customer_id=OuterRef("pk"))))


def _missing_email(params: dict[str, Any]) -> Q:
    return Q(~Exists(Email.objects.filter(customer_id=OuterRef("pk"))))


# Addresses no one reads: domains reserved for examples and tests (RFC 2606, RFC 6761) and the local parts
# people type when a form insists on an email ("none@...", "noemail@...").
RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "localhost")
RESERVED_TOP_LEVELS = (".test", ".example", ".invalid", ".localhost", ".local")
PLACEHOLDER_NAMES = ("none", "noemail", "no-email", "nomail", "no", "na", "n/a", "null", "unknown", "test",
                     "noreply", "no-reply", "donotreply", "do-not-reply", "x", "xx", "xxx", "asdf")  # fmt: skip


def _invalid_email(params: dict[str, Any]) -> Q:
    fake = Q()
    for domain in RESERVED_DOMAINS:
        fake |= Q(address_key__endswith=f"@{domain}") | Q(address_key__endswith=f".{domain}")
    for top in RESERVED_TOP_LEVELS:
        fake |= Q(address_key__endswith=top)
    for name in PLACEHOLDER_NAMES:
        fake |= Q(address_key__startswith=f"{name}@")
    return Q(Exists(Email.objects.filter(fake, customer_id=OuterRef("pk"))))


def _field_params(params: dict[str, Any]) -> dict[str, Any]:
    name = str(params.get("field") or "").strip()
    if name not in CHECKABLE_FIELDS:
        raise ValidationError(
            {"field": [_("Choose one of: %(fields)s.") % {"fields": ", ".join(CHECKABLE_FIELDS)}]}
        )
    return {"field": name}


def _missing_field(params: dict[str, Any]) -> Q:
    name = params["field"]
    missing = Q(owner__isnull=True) if name == "owner" else Q(**{name: ""})
    kind = CHECKABLE_FIELDS[name]
    return missing & Q(kind=kind) if kind else missing


def _years_params(params: dict[str, Any]) -> dict[str, Any]:
    try:
        years = int(params.get("years"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        years = 0
    if not 1 <= years <= MAX_YEARS:
        raise ValidationError(
            {"years": [_("Give a number of years from 1 to %(max)s.") % {"max": MAX_YEARS}]}
        )
    return {"years": years}


def _cutoff(years: int) -> dt.datetime:
    now = timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def _no_activity(params: dict[str, Any]) -> Q:
    since = _cutoff(params["years"])
    recent = Interaction.objects.filter(customer_id=OuterRef("pk"), occurred_at__gte=since)
    return Q(created_at__lt=since) & Q(~Exists(recent))


def _key_params(params: dict[str, Any]) -> dict[str, Any]:
    key = str(params.get("key") or "").strip()
    if not key or len(key) > 100:
        raise ValidationError({"key": [_("Give the key of a custom field.")]})
    return {"key": key}


def _missing_custom(params: dict[str, Any]) -> Q:
    return ~Q(custom_data__has_key=params["key"])


@dataclass(frozen=True)
class RuleKind:
    label: Any
    condition: Callable[[dict[str, Any]], Q]
    clean: Callable[[dict[str, Any]], dict[str, Any]] = _no_params


KINDS: dict[str, RuleKind] = {
    "missing_phone": RuleKind(gettext_lazy("No phone number"), _missing_phone),
    "missing_email": RuleKind(gettext_lazy("No email address"), _missing_email),
    "invalid_email": RuleKind(
        gettext_lazy("An email address no one reads (a placeholder or a reserved domain)"), _invalid_email
    ),
    "missing_field": RuleKind(gettext_lazy("A master field is empty"), _missing_field, _field_params),
    "no_activity": RuleKind(gettext_lazy("No interaction for some years"), _no_activity, _years_params),
    "missing_custom": RuleKind(gettext_lazy("A custom field is missing"), _missing_custom, _key_params),
}


def kind_choices() -> list[tuple[str, str]]:
    return [(code, str(kind.label)) for code, kind in KINDS.items()]


def violation_q(rule: DataQualityRule) -> Q:
    return KINDS[rule.kind].condition(rule.params or {})


# --- rules ------------------------------------------------------------------------------------------


def _clean_rule(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Give the rule a name.")]
    elif len(name) > 100:
        errors["name"] = [_("A name is at most 100 characters.")]
    code = str(data.get("kind") or "")
    params: dict[str, Any] = {}
    if code not in KINDS:
        errors["kind"] = [_("Choose a kind of rule.")]
    else:
        try:
            params = KINDS[code].clean(dict(data.get("params") or {}))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        position = int(data.get("position") or 0)
    except (TypeError, ValueError):
        position = -1
    if position < 0:
        errors["position"] = [_("Give a position of 0 or more.")]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "kind": code,
        "params": params,
        "is_active": bool(data.get("is_active", True)),
        "position": position,
    }


def rule_create(*, actor: Any, data: dict[str, Any]) -> DataQualityRule:
    require_permission(actor, "catalogue", ADMINISTER)
    return DataQualityRule.objects.create(**_clean_rule(data))


def rule_update(*, actor: Any, rule: DataQualityRule, data: dict[str, Any]) -> DataQualityRule:
    require_permission(actor, "catalogue", ADMINISTER)
    current = {
        "name": rule.name,
        "kind": rule.kind,
        "params": rule.params,
        "is_active": rule.is_active,
        "position": rule.position,
    }
    for name, value in _clean_rule({**current, **data}).items():
        setattr(rule, name, value)
    rule.save()
    return rule


def rule_delete(*, actor: Any, rule: DataQualityRule) -> None:
    require_permission(actor, "catalogue", ADMINISTER)
    rule.delete()


# --- report and score -------------------------------------------------------------------------------


def checked_customers(user: Any) -> QuerySet[Customer]:
    """The customers ``user`` sees that the rules look at: not archived, not merged away."""
    return customers_for(user).filter(merged_into__isnull=True).exclude(status=CustomerStatus.ARCHIVED)


def active_rules() -> list[DataQualityRule]:
    return [r for r in DataQualityRule.objects.filter(is_active=True) if r.kind in KINDS]


@dataclass
class RuleReport:
    rule: DataQualityRule
    count: int
    customers: list[Customer] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(KINDS[self.rule.kind].label)


def report(user: Any) -> list[RuleReport]:
    base = checked_customers(user)
    rows = []
    for rule in active_rules():
        breaking = base.filter(violation_q(rule))
        count = breaking.count()
        sample = list(breaking.order_by("display_name", "pk")[:SAMPLE]) if count else []
        rows.append(RuleReport(rule=rule, count=count, customers=sample))
    return rows


def score_of(customers: int, rules: int, violations: int) -> int:
    """The percentage (0-100) of (customer, rule) checks that pass; 100 when nothing is checked."""
    checks = customers * rules
    if not checks:
        return 100
    return round(100 * (checks - violations) / checks)


def quality_score(user: Any, rows: list[RuleReport] | None = None) -> int:
    rows = report(user) if rows is None else rows
    if not rows:
        return 100
    return score_of(checked_customers(user).count(), len(rows), sum(r.count for r in rows))


# --- bulk actions -----------------------------------------------------------------------------------

ACTIONS = {
    "assign_owner": gettext_lazy("Assign an account manager"),
    "add_tag": gettext_lazy("Add a tag"),
    "archive": gettext_lazy("Archive"),
    "delete": gettext_lazy("Delete"),
}


def _clean_bulk(actor: Any, action: str, value: Any) -> Any:
    if action not in ACTIONS:
        raise ValidationError({"action": [_("Choose an action.")]})
    require_permission(actor, "customer", DELETE if action == "delete" else EDIT)
    if action == "assign_owner":
        from kith.parties.selectors.catalogues import account_managers

        reach = {u.pk for u in account_managers(actor)}  # the owners the page offers this user
        try:
            user = get_user_model().objects.filter(pk=int(value), is_active=True).first()
        except (TypeError, ValueError):
            user = None
        if user is None or user.pk not in reach:
            raise ValidationError({"value": [_("Choose an active user as account manager.")]})
        return user.pk
    if action == "add_tag":
        name = str(value or "").strip()
        if not name or len(name) > 60:
            raise ValidationError({"value": [_("Give a tag of 1 to 60 characters.")]})
        return name
    return None


def start_bulk(*, actor: Any, rule: DataQualityRule, action: str, value: Any = None) -> Job:
    """Queue a job applying ``action`` to every customer ``actor`` sees that breaks ``rule``."""
    cleaned = _clean_bulk(actor, action, value)
    return jobs.start(
        BULK_KIND,
        actor=actor,
        params={"rule": rule.pk, "action": action, "value": cleaned},
        title=_("%(action)s: customers breaking “%(rule)s”") % {"action": ACTIONS[action], "rule": rule.name},
    )


def _apply(actor: Any, customer: Customer, action: str, value: Any) -> None:
    if action == "assign_owner":
        customer_update(actor=actor, customer=customer, expected_version=None, data={"owner": value})
    elif action == "add_tag":
        names = list(customer.tags.values_list("name", flat=True))
        if value.casefold() not in {n.casefold() for n in names}:
            customer_update(actor=actor, customer=customer, expected_version=None, tag_names=[*names, value])
    elif action == "archive":
        customer_set_status(
            actor=actor, customer=customer, status=CustomerStatus.ARCHIVED, expected_version=None
        )
    elif action == "delete":
        customer_delete(actor=actor, customer=customer)


def run_bulk(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    actor = job.owner
    action, value = job.params["action"], job.params.get("value")
    rule = DataQualityRule.objects.filter(pk=job.params["rule"]).first()
    if rule is None or rule.kind not in KINDS:
        raise ValidationError(_("The rule no longer exists."))
    with audit_context(source=Source.JOB, actor=actor):
        value = _clean_bulk(actor, action, value)  # permissions may have changed since it was queued
        breaking = checked_customers(actor).filter(violation_q(rule))
        progress.set_total(breaking.count())
        done = refused = last = 0
        while True:
            batch = list(breaking.filter(pk__gt=last).order_by("pk")[:BATCH])
            if not batch:
                break
            last = batch[-1].pk  # before a delete empties it
            for customer in batch:
                try:
                    with transaction.atomic():
                        _apply(actor, customer, action, value)
                except (PermissionDenied, ValidationError, DomainError):
                    refused += 1
                else:
                    done += 1
            progress.advance(len(batch))
    return {"done": done, "refused": refused, "action": action, "rule": rule.name}
