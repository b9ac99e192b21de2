"""Every change to sales targets: create, update (optimistic locking), delete.

Who may set a target (decided here, documented in docs/sales-forecast.md):

* one holding ``opportunity.administer`` sets anyone's and any team's;
* a manager sets the targets of the people below them in the manager chain (not their own), and of a
  team whose members (its own and those of the teams below it), themself apart, are all below them —
  there must be at least one such member.

Targets of the same person or team may not overlap: the target of a quarter and those of its months are
two ways of saying the same thing, and the forecast would count both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError
from kith.sales import currencies
from kith.sales.choices import OPPORTUNITY
from kith.sales.cleaning import Errors, add_error, clean_date, clean_text
from kith.sales.models.targets import SalesTarget
from kith.sales.selectors.forecast import team_and_below
from kith.security.models import Team
from kith.security.rules import ADMINISTER, VIEW, has_permission, require_permission
from kith.security.selectors import holding

FIELDS = ("user", "team", "period_start", "period_end", "amount", "currency", "note")
NOTE_LENGTH = 300
LONGEST = 3660  # days: a target of up to ten years


def may_set_target(actor: Any, *, user: Any = None, team: Team | None = None) -> bool:
    """Whether ``actor`` may set (create, change, delete) a target of ``user`` or ``team``."""
    if actor is None:
        return True  # the system itself (demo data, commands)
    if has_permission(actor, OPPORTUNITY, ADMINISTER):
        return True
    if not has_permission(actor, OPPORTUNITY, VIEW):
        return False
    below = set(holding(actor).reach) - {actor.pk}
    if user is not None:
        return bool(user.pk in below)
    if team is None:
        return False
    members = set(
        get_user_model()
        .objects.filter(team_id__in=team_and_below(team.pk))
        .exclude(pk=actor.pk)
        .values_list("pk", flat=True)
    )
    return bool(members) and members <= below


def settable(actor: Any, targets: list[SalesTarget]) -> set[int]:
    """The ids of ``targets`` that ``actor`` may change: ``may_set_target`` for a page of them, with the
    team tree and the members read once (two queries at most)."""
    if has_permission(actor, OPPORTUNITY, ADMINISTER):
        return {t.pk for t in targets}
    if not has_permission(actor, OPPORTUNITY, VIEW):
        return set()
    below = set(holding(actor).reach) - {actor.pk}
    found = {t.pk for t in targets if t.user_id is not None and t.user_id in below}
    teams = {t.team_id for t in targets if t.team_id is not None}
    if teams:
        children: dict[int | None, list[int]] = {}
        for pk, parent in Team.objects.values_list("pk", "parent_id"):
            children.setdefault(parent, []).append(pk)
        members: dict[int, set[int]] = {}
        for pk, team_id in get_user_model().objects.filter(team__isnull=False).values_list("pk", "team_id"):
            members.setdefault(team_id, set()).add(pk)
        allowed = set()
        for team_id in teams:
            todo, seen, people = [team_id], set(), set()
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    people |= members.get(current, set())
                    todo.extend(children.get(current, []))
            people.discard(actor.pk)
            if people and people <= below:
                allowed.add(team_id)
        found |= {t.pk for t in targets if t.team_id in allowed}
    return found


def require_may_set(actor: Any, *, user: Any = None, team: Team | None = None) -> None:
    if not may_set_target(actor, user=user, team=team):
        raise PermissionDenied(
            _("Only an administrator of opportunities or a manager above them sets this target.")
        )


def _user(value: Any, errors: Errors) -> Any:
    model = get_user_model()
    if isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=int(value))
    except (TypeError, ValueError, model.DoesNotExist):
        add_error(errors, "user", _("Choose one of the people."))
        return None


def _team(value: Any, errors: Errors) -> Team | None:
    if isinstance(value, Team):
        return value
    try:
        return Team.objects.get(pk=int(value))
    except (TypeError, ValueError, Team.DoesNotExist):
        add_error(errors, "team", _("Choose one of the teams."))
        return None


def _clean(data: dict[str, Any], *, base: SalesTarget | None) -> dict[str, Any]:
    """Validated values of the fields ``data`` names (all when creating, the subject only then); every
    error at once."""
    errors: Errors = {}
    values: dict[str, Any] = {}
    creating = base is None
    wanted = [f for f in FIELDS if creating or f in data]
    if creating:
        has_user = data.get("user") not in (None, "")
        has_team = data.get("team") not in (None, "")
        if has_user and has_team:
            add_error(errors, "team", _("A target is for one person or one team, not both."))
        elif not has_user and not has_team:
            add_error(errors, "user", _("Choose the person or the team the target is for."))
        values["user"] = _user(data["user"], errors) if has_user else None
        values["team"] = _team(data["team"], errors) if has_team and not has_user else None
    else:
        for name in ("user", "team"):
            if name in data:
                given = data[name]
                current = getattr(base, f"{name}_id")
                if str(getattr(given, "pk", given) or "") != str(current or ""):
                    add_error(errors, name, _("A target keeps its person or team: add a new target instead."))
    for name in ("period_start", "period_end"):
        if name in wanted:
            values[name] = clean_date(data.get(name), name, errors, required=True)
    start = values.get("period_start", base.period_start if base else None)
    end = values.get("period_end", base.period_end if base else None)
    if start and end and "period_start" not in errors and "period_end" not in errors:
        if end < start:
            add_error(errors, "period_end", _("The period ends before it starts."))
        elif (end - start).days >= LONGEST:
            add_error(errors, "period_end", _("A target covers at most ten years."))
    if "currency" in wanted:
        values["currency"] = currencies.clean_code(data.get("currency"), "currency", errors)
    currency = values.get("currency", base.currency if base else None)
    if "amount" in wanted or ("currency" in values and not creating):
        raw = data.get("amount") if "amount" in wanted else base.amount  # type: ignore[union-attr]
        amount = currencies.clean_amount(raw, "amount", errors, currency=currency)
        if amount is not None and amount <= Decimal(0):
            add_error(errors, "amount", _("A target is more than zero."))
        values["amount"] = amount
    if "note" in wanted:
        values["note"] = clean_text(data.get("note"), "note", NOTE_LENGTH, errors)
    if errors:
        raise ValidationError(errors)
    return values


def _lock_subject(user: Any, team: Team | None) -> None:
    """Serialise target writes of one subject (the overlap check reads, then writes)."""
    if user is not None:
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
    elif team is not None:
        Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").first()


def _check_overlap(
    *, user: Any, team: Team | None, start: dt.date, end: dt.date, exclude: int | None
) -> None:
    rows = SalesTarget.objects.filter(period_start__lte=end, period_end__gte=start)
    rows = rows.filter(user_id=user.pk) if user is not None else rows.filter(team_id=team.pk)  # type: ignore[union-attr]
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    other = rows.order_by("period_start").first()
    if other is not None:
        raise ValidationError(
            {
                "period_start": [
                    _("This period overlaps the target from %(start)s to %(end)s of the same subject.")
                    % {"start": other.period_start.isoformat(), "end": other.period_end.isoformat()}
                ]
            }
        )


def _duplicate() -> ValidationError:
    return ValidationError({"period_start": [_("There is already a target for this subject and period.")]})


@transaction.atomic
def target_create(*, actor: Any, data: dict[str, Any]) -> SalesTarget:
    """A new target of a person (``user``) or a team (``team``) for ``period_start``..``period_end``."""
    if actor is not None:
        require_permission(actor, OPPORTUNITY, VIEW)
    values = _clean(data, base=None)
    require_may_set(actor, user=values["user"], team=values["team"])
    _lock_subject(values["user"], values["team"])
    _check_overlap(
        user=values["user"],
        team=values["team"],
        start=values["period_start"],
        end=values["period_end"],
        exclude=None,
    )
    try:
        with transaction.atomic():
            return SalesTarget.objects.create(
                **values, created_by=actor if getattr(actor, "pk", None) else None
            )
    except IntegrityError as exc:
        raise _duplicate() from exc


@transaction.atomic
def target_update(
    *, actor: Any, target: SalesTarget, data: dict[str, Any], expected_version: int | None = None
) -> SalesTarget:
    """Change the period, amount, currency or note. ``expected_version`` is the version the user loaded
    (None: the one ``target`` holds); a save in between is a ``ConflictError``."""
    require_may_set(actor, user=target.user, team=target.team)
    values = _clean(data, base=target)
    version = target.version if expected_version is None else int(expected_version)
    _lock_subject(target.user, target.team)
    _check_overlap(
        user=target.user,
        team=target.team,
        start=values.get("period_start", target.period_start),
        end=values.get("period_end", target.period_end),
        exclude=target.pk,
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = SalesTarget.objects.filter(pk=target.pk, version=version).update(
                **values, updated_at=now, version=F("version") + 1
            )
    except IntegrityError as exc:
        raise _duplicate() from exc
    if not updated:
        raise ConflictError()
    for name, value in values.items():
        setattr(target, name, value)
    target.version = version + 1
    target.updated_at = now
    return target


@transaction.atomic
def target_delete(*, actor: Any, target: SalesTarget) -> None:
    require_may_set(actor, user=target.user, team=target.team)
    target.delete()
