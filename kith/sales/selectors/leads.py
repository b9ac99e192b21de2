"""Reads of leads, assignment rules, web-to-lead forms and follow-up tasks, always scoped by who asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kith.sales.choices import LEAD, OPPORTUNITY, LeadSource, LeadStatus
from kith.sales.models import FollowUpTask, Lead, LeadAssignmentRule, WebForm
from kith.security.masking import may_filter_by
from kith.security.rules import ADMINISTER, VIEW, has_permission, require_permission
from kith.security.selectors import visible_q

UNASSIGNED = "unassigned"
MINE = "mine"


def leads_for(user: Any, *, write: bool = False) -> QuerySet[Lead]:
    """The leads ``user`` may see (``write``: change): owner hierarchy, shares, defaults, role."""
    require_permission(user, LEAD, VIEW)
    return Lead.objects.filter(visible_q(user, LEAD, write=write))


def lead_for(user: Any, pk: int) -> Lead:
    lead = (
        leads_for(user)
        .select_related("owner", "category", "category__tree", "web_form", "converted_customer")
        .filter(pk=pk)
        .first()
    )
    if lead is None:
        raise Http404
    return lead


def may_change(user: Any, lead: Lead) -> bool:
    return leads_for(user, write=True).filter(pk=lead.pk).exists()


@dataclass
class LeadFilters:
    q: str = ""
    status: str = ""
    owner: str = ""  # "", "mine", "unassigned" or a user id
    source: str = ""
    territory: str = ""


def lead_list(*, user: Any, filters: LeadFilters | None = None) -> QuerySet[Lead]:
    """Newest first; ``q`` looks in the names, company and email (starts with, case ignored) and the phone
    (five digits or more). A field ``user`` may not see in full on every lead (hidden by their field rules;
    the phone, sensitive, without clearance) is no search key and no filter for them: a lead found by a
    masked value would tell the value (``masking.may_filter_by``)."""
    filters = filters or LeadFilters()
    rows = leads_for(user).select_related("owner", "category")

    def searchable(field: str) -> bool:
        return may_filter_by(user, LEAD, field)

    q = filters.q.strip()
    if q:
        condition = Q(pk__in=[])  # no field left to look in finds nothing
        for field in ("given_name", "family_name", "company", "email"):
            if searchable(field):
                condition |= Q(**{f"{field}__istartswith": q})
        if any(ch.isdigit() for ch in q) and searchable("phone"):
            digits = "".join(ch for ch in q if ch.isdigit())
            if len(digits) >= 5:
                condition |= Q(phone__contains=digits)
        rows = rows.filter(condition)
    if filters.status in LeadStatus.values:
        rows = rows.filter(status=filters.status)
    if filters.source in LeadSource.values and searchable("source"):
        rows = rows.filter(source=filters.source)
    if filters.territory.strip() and searchable("territory"):
        rows = rows.filter(territory__iexact=filters.territory.strip())
    if not searchable("owner"):
        return rows.order_by("-created_at", "-id")
    if filters.owner == MINE:
        rows = rows.filter(owner_id=user.pk)
    elif filters.owner == UNASSIGNED:
        rows = rows.filter(owner__isnull=True)
    elif filters.owner.isdigit():
        rows = rows.filter(owner_id=int(filters.owner))
    return rows.order_by("-created_at", "-id")


def _require_administer(user: Any) -> None:
    require_permission(user, LEAD, ADMINISTER)


def rules_for(user: Any) -> QuerySet[LeadAssignmentRule]:
    _require_administer(user)
    return LeadAssignmentRule.objects.select_related("category", "category__tree").prefetch_related("users")


def rule_for(user: Any, pk: int) -> LeadAssignmentRule:
    rule = rules_for(user).filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


def web_forms_for(user: Any) -> QuerySet[WebForm]:
    _require_administer(user)
    return WebForm.objects.select_related("owner", "category")


def web_form_for(user: Any, pk: int) -> WebForm:
    form = web_forms_for(user).filter(pk=pk).first()
    if form is None:
        raise Http404
    return form


def public_web_form(key: str) -> WebForm:
    """The active form behind a public link (no user: the page is public)."""
    form = WebForm.objects.select_related("owner", "category").filter(key=key, is_active=True).first()
    if form is None:
        raise Http404
    return form


def tasks_of(lead: Lead) -> QuerySet[FollowUpTask]:
    """The tasks of a lead the caller has already been allowed to see."""
    return lead.tasks.select_related("assignee").order_by("done_at", "due_date", "id")


def _visible_tasks_q(user: Any) -> Q:
    """Tasks of leads (or opportunities) the user sees, and tasks given to the user."""
    condition = Q(assignee_id=user.pk)
    if has_permission(user, LEAD, VIEW):
        condition |= Q(lead__in=Lead.objects.filter(visible_q(user, LEAD)).values("pk"))
    if has_permission(user, OPPORTUNITY, VIEW):
        from kith.sales.models import Opportunity

        condition |= Q(opportunity__in=Opportunity.objects.filter(visible_q(user, OPPORTUNITY)).values("pk"))
    return condition


def tasks_for(user: Any) -> QuerySet[FollowUpTask]:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    return FollowUpTask.objects.filter(_visible_tasks_q(user)).select_related(
        "lead", "opportunity", "assignee"
    )


def task_for(user: Any, pk: int) -> FollowUpTask:
    task = tasks_for(user).filter(pk=pk).first()
    if task is None:
        raise Http404
    return task


def my_open_tasks(user: Any) -> QuerySet[FollowUpTask]:
    """Open tasks given to ``user``, overdue (earliest due) first."""
    return (
        FollowUpTask.objects.filter(assignee_id=user.pk, done_at__isnull=True)
        .select_related("lead", "opportunity")
        .order_by("due_date", "id")
    )


# --- duplicates of a lead among the customers ---------------------------------------------------

NAME_THRESHOLD = (
    85  # rapidfuzz token_sort_ratio (0-100, word order ignored), as the customer import's default
)


@dataclass
class Candidate:
    """An existing customer the lead may be: how it matched (email, phone, name, company) and a score."""

    id: int
    customer_number: str
    display_name: str
    kind: str
    primary_email: str
    primary_phone: str
    reasons: list[str]
    score: int


def conversion_candidates(user: Any, lead: Lead, *, limit: int = 10) -> list[Candidate]:
    """The customers ``user`` sees that the lead may already be, best first: exact matches on the email
    address or the phone number (through the customer search, so keys and formats are the customers'
    own), then close names (the person's name, the company name) found by the customer search and kept
    when ``rapidfuzz`` scores them at least ``NAME_THRESHOLD``."""
    from rapidfuzz import fuzz

    from kith.parties.selectors.search import CustomerFilters, customer_search

    found: dict[int, Candidate] = {}

    def add(rows: list[dict[str, Any]], reason: str, score: int) -> None:
        for row in rows:
            candidate = found.get(row["id"])
            if candidate is None:
                found[row["id"]] = Candidate(
                    id=row["id"],
                    customer_number=row["customer_number"],
                    display_name=row["display_name"],
                    kind=row["kind"],
                    primary_email=row.get("primary_email") or "",
                    primary_phone=row.get("primary_phone") or "",
                    reasons=[reason],
                    score=score,
                )
            elif reason not in candidate.reasons:
                candidate.reasons.append(reason)
                candidate.score = max(candidate.score, score)

    def search(q: str) -> list[dict[str, Any]]:
        return customer_search(user=user, filters=CustomerFilters(q=q), limit=limit).rows

    if lead.email:
        add(search(lead.email), _("same email"), 100)
    if lead.phone:
        add(search(lead.phone), _("same phone"), 100)
    person = " ".join(p for p in (lead.given_name, lead.family_name) if p).strip()
    for name, reason in ((person, _("similar name")), (lead.company, _("similar company name"))):
        if len(name) < 2:
            continue
        rows = []
        for row in search(name):
            score = int(fuzz.token_sort_ratio(name.casefold(), str(row["display_name"]).casefold()))
            if score >= NAME_THRESHOLD:
                row["_score"] = score
                rows.append(row)
        for row in rows:
            add([row], reason, row["_score"])
    best = sorted(found.values(), key=lambda c: (-c.score, -len(c.reasons), c.id))[:limit]
    return _as_seen(user, lead, best)


def _as_seen(user: Any, lead: Lead, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates' contacts as ``user`` may see them: the customers' own field views (a person's
    phone masked without clearance), and a contact found as the lead's masked or hidden phone (or hidden
    email) masked too, or the match would tell the lead's value."""
    from kith.security import masking

    if not candidates:
        return candidates
    views = masking.field_views(user, [{"id": c.id, "kind": c.kind} for c in candidates])
    lead_view = masking.field_view(user, lead, object_type=LEAD)
    phone_locked = not lead_view.shows("phone") or lead_view.is_masked("phone")
    for candidate in candidates:
        row = {"primary_phone": candidate.primary_phone, "primary_email": candidate.primary_email}
        masking.apply_to_row(views[candidate.id], row, {"primary_phone": "phones", "primary_email": "emails"})
        if phone_locked and row["primary_phone"] and not row.get("primary_phone_masked"):
            row["primary_phone"] = masking.mask(masking.PHONE, row["primary_phone"])
        if not lead_view.shows("email"):
            row["primary_email"] = ""
        candidate.primary_phone, candidate.primary_email = row["primary_phone"], row["primary_email"]
    return candidates
