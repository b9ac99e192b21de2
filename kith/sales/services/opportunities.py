"""Every change to opportunities: create, update (optimistic locking), move between stages, delete.

Defaults of ``opportunity_create`` (documented in docs/sales-opportunities.md):

* ``currency``: the one given; else the lead's (when a lead is given and has one); else
  ``KITH_DEFAULT_CURRENCY``; else a field error asks for it.
* ``pipeline``: the default pipeline (``is_default``; else the first active one).
* ``stage``: the pipeline's first open stage (lowest position).
* ``owner``: the actor (``None`` when the system creates the deal and no owner is given).
* ``probability``: the stage's default probability.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.errors import ConflictError, DomainError
from kith.parties.choices import CustomerStatus
from kith.sales import currencies
from kith.sales.choices import APPROVAL_REQUIRED, OPPORTUNITY, StageKind
from kith.sales.cleaning import clean_date, clean_percent
from kith.sales.models import CloseReason, Opportunity, Pipeline, Stage, StageChange
from kith.security.masking import check_writable
from kith.security.rules import CREATE, DELETE, EDIT, require_permission

TIMELINE_KIND = "sales.opportunity"
_TEXT = {"name": 200, "next_step": 200, "competitors": 300, "close_note": 300}
FIELDS = (
    "customer",
    "name",
    "amount",
    "currency",
    "discount_percent",
    "probability",
    "owner",
    "expected_close_date",
    "next_step",
    "competitors",
    "description",
    "lead",
)


class ApprovalRequired(DomainError):
    """The deal needs a granted approval before it may enter the stage."""

    code = APPROVAL_REQUIRED
    status = 409


def require(actor: Any, action: str) -> None:
    """``actor`` holds (opportunity, action); ``None`` is the system itself (conversions, demo data)."""
    if actor is not None:
        require_permission(actor, OPPORTUNITY, action)


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _text(data: dict[str, Any], field: str, errors: dict[str, list[str]]) -> str:
    value = str(data.get(field) or "").strip()
    limit = _TEXT.get(field)
    if limit and len(value) > limit:
        _add(errors, field, _("At most %(n)d characters.") % {"n": limit})
    return value


def _probability(value: Any, errors: dict[str, list[str]]) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        _add(errors, "probability", _("Enter a whole percentage from 0 to 100."))
        return None
    if not 0 <= number <= 100:
        _add(errors, "probability", _("Enter a whole percentage from 0 to 100."))
        return None
    return number


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "name", "id").first()


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("position", "id").first()


def _pipeline(value: Any, errors: dict[str, list[str]]) -> Pipeline | None:
    if value in (None, ""):
        pipeline = default_pipeline()
        if pipeline is None:
            _add(errors, "pipeline", _("There is no active pipeline: an administrator must create one."))
        return pipeline
    if isinstance(value, Pipeline):
        return value
    try:
        return Pipeline.objects.get(pk=int(value))
    except (TypeError, ValueError, Pipeline.DoesNotExist):
        _add(errors, "pipeline", _("Choose one of the pipelines."))
        return None


def _stage(value: Any, pipeline: Pipeline | None, errors: dict[str, list[str]]) -> Stage | None:
    if pipeline is None:
        return None
    if value in (None, ""):
        stage = first_open_stage(pipeline)
        if stage is None:
            _add(errors, "stage", _("The pipeline “%(name)s” has no open stage.") % {"name": pipeline.name})
        return stage
    if isinstance(value, Stage):
        stage = value
    else:
        try:
            stage = Stage.objects.get(pk=int(value))
        except (TypeError, ValueError, Stage.DoesNotExist):
            _add(errors, "stage", _("Choose one of the stages of the pipeline."))
            return None
    if stage.pipeline_id != pipeline.pk:
        _add(
            errors,
            "stage",
            _("The stage “%(stage)s” is not a stage of the pipeline “%(pipeline)s”.")
            % {"stage": stage.name, "pipeline": pipeline.name},
        )
        return None
    return stage


def _user(value: Any, field: str, errors: dict[str, list[str]]) -> Any:
    if value in (None, ""):
        return None
    user_model = get_user_model()
    if isinstance(value, user_model):
        user = value
    else:
        try:
            user = user_model.objects.get(pk=int(value))
        except (TypeError, ValueError, user_model.DoesNotExist):
            _add(errors, field, _("Choose one of the users."))
            return None
    if not user.is_active:
        _add(errors, field, _("This user is deactivated."))
        return None
    return user


def _customer(value: Any, actor: Any, errors: dict[str, list[str]]) -> Any:
    from kith.parties.models import Customer
    from kith.parties.selectors.customers import customers_for

    if value in (None, ""):
        _add(errors, "customer", _("Choose the customer."))
        return None
    if not isinstance(value, Customer):
        try:
            value = Customer.objects.get(pk=int(value))
        except (TypeError, ValueError, Customer.DoesNotExist):
            _add(errors, "customer", _("No such customer."))
            return None
    if actor is not None and not customers_for(actor).filter(pk=value.pk).exists():
        _add(errors, "customer", _("No such customer."))
        return None
    if value.status == CustomerStatus.ARCHIVED:
        _add(errors, "customer", _("This customer is archived: restore it before adding a deal."))
        return None
    return value


def _lead(value: Any, errors: dict[str, list[str]]) -> Any:
    from kith.sales.models import Lead

    if value in (None, ""):
        return None
    if isinstance(value, Lead):
        return value
    try:
        return Lead.objects.get(pk=int(value))
    except (TypeError, ValueError, Lead.DoesNotExist):
        _add(errors, "lead", _("No such lead."))
        return None


def _clean(data: dict[str, Any], *, actor: Any, base: Opportunity | None) -> dict[str, Any]:
    """Validated values of the fields ``data`` names (all of them when creating); every error at once."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    creating = base is None
    wanted = [f for f in FIELDS if creating or f in data]
    for field in ("name", "next_step", "competitors", "description"):
        if field in wanted:
            values[field] = _text(data, field, errors)
    if "name" in values and not values["name"]:
        _add(errors, "name", _("Give the deal a name."))
    if "customer" in wanted:
        if creating:
            values["customer"] = _customer(data.get("customer"), actor, errors)
        else:
            given = data.get("customer")
            if given not in (None, "") and str(getattr(given, "pk", given)) != str(base.customer_id):  # type: ignore[union-attr]
                values["customer"] = _customer(given, actor, errors)
    if "lead" in wanted:
        values["lead"] = _lead(data.get("lead"), errors)
    if "currency" in wanted:
        raw = data.get("currency")
        if creating and not str(raw or "").strip():
            lead = values.get("lead")
            raw = (getattr(lead, "currency", "") or "") or currencies.default_code()
        values["currency"] = currencies.clean_code(raw, "currency", errors)
    currency = values.get("currency", base.currency if base else None)
    if "amount" in wanted or ("currency" in values and not creating):
        raw_amount = data.get("amount") if "amount" in wanted else base.amount  # type: ignore[union-attr]
        if creating and raw_amount in (None, ""):
            raw_amount = "0"
        values["amount"] = currencies.clean_amount(raw_amount, "amount", errors, currency=currency)
    if "discount_percent" in wanted:
        values["discount_percent"] = clean_percent(data.get("discount_percent"), "discount_percent", errors)
    if "probability" in wanted and data.get("probability") not in (None, ""):
        values["probability"] = _probability(data.get("probability"), errors)
    else:
        values.pop("probability", None)
    if "owner" in wanted:
        if creating and data.get("owner") in (None, ""):
            values["owner"] = actor
        else:
            values["owner"] = _user(data.get("owner"), "owner", errors)
    if "expected_close_date" in wanted:
        values["expected_close_date"] = clean_date(
            data.get("expected_close_date"), "expected_close_date", errors
        )
    if creating:
        raw_pipeline = data.get("pipeline")
        raw_stage = data.get("stage")
        if raw_pipeline in (None, "") and raw_stage not in (None, ""):  # a stage alone names its pipeline
            given = raw_stage if isinstance(raw_stage, Stage) else None
            if given is None and str(raw_stage).strip().isdigit():
                given = Stage.objects.select_related("pipeline").filter(pk=int(raw_stage)).first()
            raw_pipeline = given.pipeline if given is not None else None
        pipeline = _pipeline(raw_pipeline, errors)
        if pipeline is not None and not pipeline.is_active:
            _add(errors, "pipeline", _("This pipeline is not active."))
        stage = _stage(raw_stage, pipeline, errors)
        if stage is not None and stage.kind != StageKind.OPEN:
            _add(errors, "stage", _("A new deal starts in an open stage."))
        values["pipeline"] = pipeline
        values["stage"] = stage
    else:
        for field in ("pipeline", "stage"):
            if field in data and data[field] not in (None, ""):
                current = base.pipeline_id if field == "pipeline" else base.stage_id  # type: ignore[union-attr]
                given = getattr(data[field], "pk", data[field])
                if str(given) != str(current):
                    _add(
                        errors,
                        field,
                        _("Move the deal on the board (or with “Move to”) to change its stage."),
                    )
    if errors:
        raise ValidationError(errors)
    return values


def needs_approval_to_enter(stage: Stage) -> bool:
    """Whether a deal needing an approval may enter ``stage`` only with one granted: the stage asks for it,
    or (so that an approval cannot be skipped) an approval stage comes before it and it is not a lost one."""
    if stage.requires_approval:
        return True
    if stage.kind == StageKind.LOST:
        return False
    return Stage.objects.filter(
        pipeline_id=stage.pipeline_id, requires_approval=True, position__lt=stage.position
    ).exists()


def check_approval(opportunity: Opportunity, stage: Stage) -> None:
    """Refuse (``ApprovalRequired``) a deal that needs an approval not granted from entering ``stage``.
    What is weighed is ``approvals.needs_approval``: the deal's own figures raised to those of its open
    quotes (``approvals.asked_for``), as on the deal's page and at the quote gate."""
    from kith.sales.services.approvals import needs_approval

    if not needs_approval_to_enter(stage):
        return
    reasons = needs_approval(opportunity)
    if not reasons:
        return
    raise ApprovalRequired(
        _("“%(stage)s” needs an approval of this deal first: %(reasons)s. Request one on the deal's page.")
        % {"stage": stage.name, "reasons": "; ".join(reasons)}
    )


_RELATIONS = ("customer", "owner", "lead")


def _comparable(field: str, value: Any) -> Any:
    return getattr(value, "pk", value) if field in _RELATIONS else value


def _held(opportunity: Opportunity, field: str) -> Any:
    """What ``opportunity`` holds in ``field`` (a related record by its id): a field a form sends unchanged
    is no change for the field rules."""
    return getattr(opportunity, f"{field}_id") if field in _RELATIONS else getattr(opportunity, field)


def _title(opportunity: Opportunity) -> str:
    amount = f"{opportunity.amount} {opportunity.currency}"
    if opportunity.status == StageKind.WON:
        return _("Deal won: %(name)s (%(amount)s)") % {"name": opportunity.name, "amount": amount}
    if opportunity.status == StageKind.LOST:
        return _("Deal lost: %(name)s (%(amount)s)") % {"name": opportunity.name, "amount": amount}
    return _("Deal: %(name)s (%(amount)s, %(stage)s)") % {
        "name": opportunity.name,
        "amount": amount,
        "stage": opportunity.stage.name,
    }


def _summary(opportunity: Opportunity) -> str:
    return opportunity.next_step or ""


@transaction.atomic
def opportunity_create(*, actor: Any, data: dict[str, Any]) -> Opportunity:
    """A new deal (see the module's docstring for the defaults). Safe inside the caller's transaction
    (a lead conversion): it opens a savepoint only."""
    require(actor, CREATE)
    values = _clean(data, actor=actor, base=None)
    blank = Opportunity()
    blank.currency, blank.owner_id = currencies.default_code() or "", getattr(actor, "pk", None)
    # what the user gave (not the defaults: the owner, the default currency, amount 0)
    check_writable(
        actor,
        OPPORTUNITY,
        [
            f
            for f in FIELDS
            if f in values and data.get(f) not in (None, "") and _comparable(f, values[f]) != _held(blank, f)
        ],
    )
    stage: Stage = values["stage"]
    now = timezone.now()
    values.setdefault("probability", stage.probability)
    opportunity = Opportunity(
        **values,
        status=stage.kind,
        stage_entered_at=now,
        closed_at=now if stage.kind != StageKind.OPEN else None,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    check_approval(opportunity, stage)
    opportunity.save()
    StageChange.objects.create(
        opportunity=opportunity,
        from_stage=None,
        to_stage=stage,
        changed_at=now,
        changed_by=actor if getattr(actor, "pk", None) else None,
        seconds_in_previous=None,
    )
    timeline.publish(
        subject=opportunity.customer,
        kind=TIMELINE_KIND,
        occurred_at=now,
        title=_title(opportunity),
        summary=_summary(opportunity),
        actor=actor,
        source=opportunity,
    )
    return opportunity


@transaction.atomic
def opportunity_update(
    *, actor: Any, opportunity: Opportunity, data: dict[str, Any], expected_version: int | None = None
) -> Opportunity:
    """Change the fields ``data`` names (not the stage: ``opportunity_move``). ``expected_version`` is the
    version the user loaded (None: the one ``opportunity`` holds); a save in between is a ConflictError.
    Raising the amount or the discount above an approval marks it superseded."""
    from kith.sales.services.approvals import supersede_outdated

    require(actor, EDIT)
    values = _clean(data, actor=actor, base=opportunity)
    check_writable(
        actor,
        OPPORTUNITY,
        [f for f in FIELDS if f in values and _comparable(f, values[f]) != _held(opportunity, f)],
        record=opportunity,
    )
    version = opportunity.version if expected_version is None else int(expected_version)
    now = timezone.now()
    updated = Opportunity.objects.filter(pk=opportunity.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    )
    if not updated:
        raise ConflictError()
    for field, value in values.items():
        setattr(opportunity, field, value)
    opportunity.version = version + 1
    opportunity.updated_at = now
    if {"amount", "currency", "discount_percent"} & values.keys():
        supersede_outdated(opportunity, actor=actor)
    if "customer" in values:
        timeline.retract(opportunity)
        timeline.publish(
            subject=opportunity.customer,
            kind=TIMELINE_KIND,
            occurred_at=opportunity.created_at,
            title=_title(opportunity),
            summary=_summary(opportunity),
            actor=actor,
            source=opportunity,
        )
    else:
        timeline.update_for_source(
            opportunity, title=_title(opportunity)[:300], summary=_summary(opportunity)
        )
    return opportunity


def _close_reason(value: Any, kind: str, errors: dict[str, list[str]]) -> CloseReason | None:
    if value in (None, ""):
        return None
    if isinstance(value, CloseReason):
        reason = value
    else:
        try:
            reason = CloseReason.objects.get(pk=int(value))
        except (TypeError, ValueError, CloseReason.DoesNotExist):
            _add(errors, "close_reason", _("Choose one of the reasons."))
            return None
    if reason.kind != kind:
        _add(
            errors,
            "close_reason",
            _("“%(reason)s” is a reason for a deal %(kind)s.")
            % {"reason": reason.name, "kind": reason.get_kind_display()},
        )
        return None
    if not reason.is_active:
        _add(errors, "close_reason", _("This reason is no longer in use."))
        return None
    return reason


@transaction.atomic
def opportunity_move(
    *,
    actor: Any,
    opportunity: Opportunity,
    stage: Stage | int | str,
    expected_version: int | None = None,
    close_reason: CloseReason | int | str | None = None,
    close_note: str = "",
) -> Opportunity:
    """Move the deal to ``stage`` of its pipeline: a StageChange with the seconds spent in the previous
    stage; status, probability and closing time follow the stage; a won/lost stage takes a reason of its
    kind (optional when none is defined), reopening clears them. Entering an approval stage (or one after
    it) without a granted approval the deal needs is refused (``ApprovalRequired``)."""
    require(actor, EDIT)
    errors: dict[str, list[str]] = {}
    pipeline = opportunity.pipeline
    target = _stage(stage, pipeline, errors)
    if errors:
        raise ValidationError(errors)
    assert target is not None
    reason = None
    note = str(close_note or "").strip()
    if target.kind != StageKind.OPEN:
        reason = _close_reason(close_reason, target.kind, errors)
        if (
            reason is None
            and "close_reason" not in errors
            and CloseReason.objects.filter(kind=target.kind, is_active=True).exists()
        ):
            _add(
                errors,
                "close_reason",
                _("Say why the deal was won.")
                if target.kind == StageKind.WON
                else _("Say why the deal was lost."),
            )
        if len(note) > _TEXT["close_note"]:
            _add(errors, "close_note", _("At most %(n)d characters.") % {"n": _TEXT["close_note"]})
    elif close_reason not in (None, ""):
        _add(errors, "close_reason", _("Only a won or lost deal has a reason."))
    if errors:
        raise ValidationError(errors)
    version = opportunity.version if expected_version is None else int(expected_version)
    if version != opportunity.version:
        raise ConflictError()
    if (
        target.pk == opportunity.stage_id
        and (target.kind == StageKind.OPEN or reason == opportunity.close_reason)
        and note == opportunity.close_note
    ):
        return opportunity
    check_approval(opportunity, target)
    now = timezone.now()
    previous = opportunity.stage_id
    entered = opportunity.stage_entered_at or opportunity.created_at
    values: dict[str, Any] = {
        "stage": target,
        "status": target.kind,
        "probability": target.probability,
        "stage_entered_at": now if target.pk != previous else entered,
    }
    if target.kind == StageKind.OPEN:
        values.update(close_reason=None, close_note="", closed_at=None)
    else:
        values.update(
            close_reason=reason,
            close_note=note,
            closed_at=opportunity.closed_at
            if opportunity.status == target.kind and opportunity.closed_at
            else now,
        )
    updated = Opportunity.objects.filter(pk=opportunity.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    )
    if not updated:
        raise ConflictError()
    for field, value in values.items():
        setattr(opportunity, field, value)
    opportunity.version = version + 1
    opportunity.updated_at = now
    if target.pk != previous:
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage_id=previous,
            to_stage=target,
            changed_at=now,
            changed_by=actor if getattr(actor, "pk", None) else None,
            seconds_in_previous=max(0, int((now - entered).total_seconds())) if entered else None,
        )
    timeline.update_for_source(opportunity, title=_title(opportunity)[:300])
    return opportunity


@transaction.atomic
def opportunity_delete(*, actor: Any, opportunity: Opportunity) -> None:
    """Delete a deal, its stage history and approvals; its timeline entry goes too."""
    require(actor, DELETE)
    timeline.retract(opportunity)
    opportunity.delete()
