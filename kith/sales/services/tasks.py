"""Follow-up tasks of a lead or an opportunity: add, tick done (and undo), delete."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError
from kith.sales.choices import LEAD, OPPORTUNITY
from kith.sales.models import FollowUpTask, Lead
from kith.sales.services.leads import active_user
from kith.security.rules import EDIT, require_permission
from kith.security.selectors import visible_q


def _require_subject(actor: Any, *, lead: Lead | None, opportunity: Any) -> None:
    """Changing a task is changing its lead (or opportunity): edit permission and write reach."""
    if actor is None:
        return
    if lead is not None:
        require_permission(actor, LEAD, EDIT)
        if not Lead.objects.filter(visible_q(actor, LEAD, write=True), pk=lead.pk).exists():
            raise PermissionDenied
    else:
        from kith.sales.models import Opportunity

        require_permission(actor, OPPORTUNITY, EDIT)
        if not Opportunity.objects.filter(
            visible_q(actor, OPPORTUNITY, write=True), pk=opportunity.pk
        ).exists():
            raise PermissionDenied


def _may_tick(actor: Any, task: FollowUpTask) -> None:
    """Its assignee may tick it; else whoever may change its subject."""
    if actor is not None and task.assignee_id == getattr(actor, "pk", None):
        return
    _require_subject(actor, lead=task.lead, opportunity=task.opportunity)


def _due(value: Any, errors: dict[str, list[str]]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        errors["due_date"] = [_("Give the date it is due.")]
        return None
    try:
        parsed = parse_date(text)
    except ValueError:
        parsed = None
    if parsed is None:
        errors["due_date"] = [_("Enter a valid date (YYYY-MM-DD).")]
    return parsed


@transaction.atomic
def task_create(
    *, actor: Any, data: dict[str, Any], lead: Lead | None = None, opportunity: Any = None
) -> FollowUpTask:
    """A task of ``lead`` or of ``opportunity`` (exactly one); the assignee defaults to the actor."""
    if (lead is None) == (opportunity is None):
        raise ValueError("a task belongs to a lead or to an opportunity")
    _require_subject(actor, lead=lead, opportunity=opportunity)
    errors: dict[str, list[str]] = {}
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = [_("Say what is to be done.")]
    elif len(title) > 200:
        errors["title"] = [_("At most %(n)d characters.") % {"n": 200}]
    due = _due(data.get("due_date"), errors)
    assignee = data.get("assignee")
    if assignee in (None, ""):
        assignee = actor if getattr(actor, "pk", None) else None
    else:
        assignee = active_user(assignee, "assignee", errors)
    if errors or due is None:
        raise ValidationError(errors)
    return FollowUpTask.objects.create(
        lead=lead,
        opportunity=opportunity,
        title=title,
        due_date=due,
        assignee=assignee,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def task_set_done(
    *, actor: Any, task: FollowUpTask, done: bool = True, expected_version: int | None = None
) -> FollowUpTask:
    _may_tick(actor, task)
    version = task.version if expected_version is None else int(expected_version)
    now = timezone.now()
    done_at = now if done else None
    if not FollowUpTask.objects.filter(pk=task.pk, version=version).update(
        done_at=done_at, updated_at=now, version=F("version") + 1
    ):
        raise ConflictError()
    task.done_at, task.updated_at, task.version = done_at, now, version + 1
    return task


@transaction.atomic
def task_delete(*, actor: Any, task: FollowUpTask) -> None:
    _require_subject(actor, lead=task.lead, opportunity=task.opportunity)
    task.delete()
