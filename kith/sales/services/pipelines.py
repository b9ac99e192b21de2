"""Administration of pipelines, their stages and the reasons deals are won or lost
(permission opportunity.administer).

Rules: a pipeline has at least one open, one won and one lost stage at all times; a stage some deal is in
can be neither deleted nor given another kind; one pipeline is the default (new deals start there).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError, DeleteRefused
from kith.sales.choices import OPPORTUNITY, StageKind
from kith.sales.models import CloseReason, Opportunity, Pipeline, Stage
from kith.security.rules import ADMINISTER, require_permission


def require(actor: Any) -> None:
    if actor is not None:
        require_permission(actor, OPPORTUNITY, ADMINISTER)


def _name(value: Any, limit: int, errors: dict[str, list[str]], field: str = "name") -> str:
    text = str(value or "").strip()
    if not text:
        errors.setdefault(field, []).append(_("Give a name."))
    elif len(text) > limit:
        errors.setdefault(field, []).append(_("At most %(n)d characters.") % {"n": limit})
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


DEFAULT_STAGES = (
    ("New", 10, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
)


def _complete(kinds: Counter[str]) -> list[str]:
    missing = []
    if not kinds[StageKind.OPEN]:
        missing.append(_("A pipeline needs at least one open stage."))
    if not kinds[StageKind.WON]:
        missing.append(_("A pipeline needs at least one won stage."))
    if not kinds[StageKind.LOST]:
        missing.append(_("A pipeline needs at least one lost stage."))
    return missing


def _kinds(pipeline: Pipeline, *, without: int | None = None, extra: str = "") -> Counter[str]:
    rows = Stage.objects.filter(pipeline=pipeline)
    if without is not None:
        rows = rows.exclude(pk=without)
    kinds = Counter(rows.values_list("kind", flat=True))
    if extra:
        kinds[extra] += 1
    return kinds


def _make_default(pipeline: Pipeline) -> None:
    Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)


@transaction.atomic
def pipeline_create(*, actor: Any, data: dict[str, Any]) -> Pipeline:
    """A pipeline with the stages New (open), Won and Lost to start with (rename and add to them)."""
    require(actor)
    errors: dict[str, list[str]] = {}
    name = _name(data.get("name"), 100, errors)
    if name and Pipeline.objects.filter(name__iexact=name).exists():
        errors.setdefault("name", []).append(_("Another pipeline has this name."))
    if errors:
        raise ValidationError(errors)
    is_default = _flag(data.get("is_default")) or not Pipeline.objects.exists()
    pipeline = Pipeline.objects.create(name=name, is_default=is_default, is_active=True)
    if is_default:
        _make_default(pipeline)
    for position, (stage_name, probability, kind) in enumerate(DEFAULT_STAGES):
        Stage.objects.create(
            pipeline=pipeline, name=str(_(stage_name)), position=position, probability=probability, kind=kind
        )
    return pipeline


@transaction.atomic
def pipeline_update(
    *, actor: Any, pipeline: Pipeline, data: dict[str, Any], expected_version: int | None = None
) -> Pipeline:
    require(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _name(data.get("name"), 100, errors)
        if (
            values["name"]
            and Pipeline.objects.filter(name__iexact=values["name"]).exclude(pk=pipeline.pk).exists()
        ):
            errors.setdefault("name", []).append(_("Another pipeline has this name."))
    if "is_default" in data:
        values["is_default"] = _flag(data["is_default"])
        if pipeline.is_default and not values["is_default"]:
            errors.setdefault("is_default", []).append(
                _("Make another pipeline the default instead (there is always one).")
            )
    if "is_active" in data:
        values["is_active"] = _flag(data["is_active"])
        if not values["is_active"] and (values.get("is_default") or pipeline.is_default):
            errors.setdefault("is_active", []).append(_("The default pipeline stays active."))
    if errors:
        raise ValidationError(errors)
    version = pipeline.version if expected_version is None else int(expected_version)
    try:
        with transaction.atomic():
            updated = Pipeline.objects.filter(pk=pipeline.pk, version=version).update(
                **values, updated_at=timezone.now(), version=F("version") + 1
            )
    except IntegrityError as exc:
        raise ValidationError({"name": [_("Another pipeline has this name.")]}) from exc
    if not updated:
        raise ConflictError()
    for field, value in values.items():
        setattr(pipeline, field, value)
    pipeline.version = version + 1
    if values.get("is_default"):
        _make_default(pipeline)
    return pipeline


@transaction.atomic
def pipeline_delete(*, actor: Any, pipeline: Pipeline) -> None:
    require(actor)
    if pipeline.is_default:
        raise DeleteRefused(_("The default pipeline cannot be deleted: make another one the default first."))
    if Opportunity.objects.filter(pipeline=pipeline).exists():
        raise DeleteRefused(_("Deals are on this pipeline: move or delete them first, or make it inactive."))
    pipeline.delete()


def _stage_values(
    data: dict[str, Any], *, pipeline: Pipeline, base: Stage | None, errors: dict[str, list[str]]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if base is None or "name" in data:
        values["name"] = _name(data.get("name"), 100, errors)
        taken = Stage.objects.filter(pipeline=pipeline, name__iexact=values["name"])
        if base is not None:
            taken = taken.exclude(pk=base.pk)
        if values["name"] and taken.exists():
            errors.setdefault("name", []).append(_("The pipeline has another stage with this name."))
    if base is None or "kind" in data:
        kind = str(data.get("kind") or StageKind.OPEN)
        if kind not in StageKind.values:
            errors.setdefault("kind", []).append(_("Choose open, won or lost."))
        values["kind"] = kind
    if base is None or "probability" in data:
        raw = data.get("probability")
        if raw in (None, ""):
            kind = values.get("kind", base.kind if base else StageKind.OPEN)
            raw = 100 if kind == StageKind.WON else 0 if kind == StageKind.LOST else 10
        try:
            probability = int(str(raw).strip())
        except (TypeError, ValueError):
            probability = -1
        if not 0 <= probability <= 100:
            errors.setdefault("probability", []).append(_("Enter a whole percentage from 0 to 100."))
        values["probability"] = probability
    if base is None or "requires_approval" in data:
        values["requires_approval"] = _flag(data.get("requires_approval"))
    return values


@transaction.atomic
def stage_create(*, actor: Any, pipeline: Pipeline, data: dict[str, Any]) -> Stage:
    """A stage at the end of the pipeline (or at ``position``)."""
    require(actor)
    errors: dict[str, list[str]] = {}
    values = _stage_values(data, pipeline=pipeline, base=None, errors=errors)
    if errors:
        raise ValidationError(errors)
    last = (
        Stage.objects.filter(pipeline=pipeline)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    return Stage.objects.create(pipeline=pipeline, position=(last + 1) if last is not None else 0, **values)


@transaction.atomic
def stage_update(*, actor: Any, stage: Stage, data: dict[str, Any]) -> Stage:
    """Rename, change the probability, the kind (not of a stage in use) or whether it needs an approval."""
    require(actor)
    errors: dict[str, list[str]] = {}
    values = _stage_values(data, pipeline=stage.pipeline, base=stage, errors=errors)
    if "kind" in values and values["kind"] != stage.kind and "kind" not in errors:
        if Opportunity.objects.filter(stage=stage).exists():
            errors.setdefault("kind", []).append(
                _("Deals are in this stage: its kind cannot change (move them first).")
            )
        else:
            for message in _complete(_kinds(stage.pipeline, without=stage.pk, extra=values["kind"])):
                errors.setdefault("kind", []).append(message)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            for field, value in values.items():
                setattr(stage, field, value)
            stage.save()
    except IntegrityError as exc:
        raise ValidationError({"name": [_("The pipeline has another stage with this name.")]}) from exc
    return stage


@transaction.atomic
def stage_delete(*, actor: Any, stage: Stage) -> None:
    require(actor)
    if Opportunity.objects.filter(stage=stage).exists():
        raise DeleteRefused(_("Deals are in this stage: move them to another stage first."))
    missing = _complete(_kinds(stage.pipeline, without=stage.pk))
    if missing:
        raise DeleteRefused(" ".join(missing))
    try:
        with transaction.atomic():
            stage.delete()
    except ProtectedError as exc:
        raise DeleteRefused(_("Deals are in this stage: move them to another stage first.")) from exc


@transaction.atomic
def stages_reorder(*, actor: Any, pipeline: Pipeline, order: list[int]) -> list[Stage]:
    """Put the pipeline's stages in the order of ``order`` (their ids, every one exactly once)."""
    require(actor)
    stages = {s.pk: s for s in Stage.objects.filter(pipeline=pipeline)}
    try:
        ids = [int(pk) for pk in order]
    except (TypeError, ValueError):
        ids = []
    if sorted(ids) != sorted(stages):
        raise ValidationError({"order": [_("List every stage of the pipeline exactly once.")]})
    for position, pk in enumerate(ids):
        stage = stages[pk]
        if stage.position != position:
            stage.position = position
            stage.save(update_fields=["position", "updated_at"])
    return [stages[pk] for pk in ids]


@transaction.atomic
def stage_move(*, actor: Any, stage: Stage, step: int) -> list[Stage]:
    """Move ``stage`` one place up (``step=-1``) or down (``+1``)."""
    ids = list(
        Stage.objects.filter(pipeline=stage.pipeline).order_by("position", "id").values_list("pk", flat=True)
    )
    index = ids.index(stage.pk)
    target = max(0, min(len(ids) - 1, index + (1 if step > 0 else -1)))
    ids.insert(target, ids.pop(index))
    return stages_reorder(actor=actor, pipeline=stage.pipeline, order=ids)


@transaction.atomic
def close_reason_create(*, actor: Any, data: dict[str, Any]) -> CloseReason:
    require(actor)
    errors: dict[str, list[str]] = {}
    name = _name(data.get("name"), 100, errors)
    kind = str(data.get("kind") or "")
    if kind not in (StageKind.WON, StageKind.LOST):
        errors.setdefault("kind", []).append(_("Choose won or lost."))
    elif name and CloseReason.objects.filter(kind=kind, name__iexact=name).exists():
        errors.setdefault("name", []).append(_("This reason exists already."))
    if errors:
        raise ValidationError(errors)
    return CloseReason.objects.create(kind=kind, name=name)


@transaction.atomic
def close_reason_update(*, actor: Any, reason: CloseReason, data: dict[str, Any]) -> CloseReason:
    require(actor)
    errors: dict[str, list[str]] = {}
    if "name" in data:
        reason.name = _name(data.get("name"), 100, errors)
        if (
            CloseReason.objects.filter(kind=reason.kind, name__iexact=reason.name)
            .exclude(pk=reason.pk)
            .exists()
        ):
            errors.setdefault("name", []).append(_("This reason exists already."))
    if "is_active" in data:
        reason.is_active = _flag(data["is_active"])
    if errors:
        raise ValidationError(errors)
    reason.save()
    return reason


@transaction.atomic
def close_reason_delete(*, actor: Any, reason: CloseReason) -> None:
    require(actor)
    try:
        with transaction.atomic():
            reason.delete()
    except ProtectedError as exc:
        raise DeleteRefused(_("Deals were closed with this reason: mark it inactive instead.")) from exc


# The pipeline a new installation starts with (admins rename and change it freely):
# name, probability, kind, needs a granted approval
FIRST_PIPELINE_STAGES = (
    ("Qualification", 10, "open", False),
    ("Needs analysis", 25, "open", False),
    ("Proposal sent", 50, "open", True),
    ("Negotiation", 75, "open", True),
    ("Won", 100, "won", False),
    ("Lost", 0, "lost", False),
)
FIRST_CLOSE_REASONS = (
    ("won", "Best price"),
    ("won", "Best product fit"),
    ("won", "Relationship"),
    ("lost", "Price too high"),
    ("lost", "Lost to a competitor"),
    ("lost", "No budget"),
    ("lost", "No decision"),
)


def ensure_default_pipeline(**kwargs: Any) -> None:
    """post_migrate: a database without any pipeline (a new one, or one emptied by a flush) gets the
    default pipeline and the usual close reasons; the default pipeline cannot be deleted, so an
    administrator's pipelines are never touched."""
    from django.db import connection

    if Pipeline._meta.db_table not in connection.introspection.table_names():
        return
    if Pipeline.objects.exists():
        return
    with transaction.atomic():
        pipeline = Pipeline.objects.create(name="Sales", is_default=True)
        Stage.objects.bulk_create(
            [
                Stage(
                    pipeline=pipeline,
                    name=name,
                    position=position,
                    probability=probability,
                    kind=kind,
                    requires_approval=approval,
                )
                for position, (name, probability, kind, approval) in enumerate(FIRST_PIPELINE_STAGES)
            ]
        )
        for kind, name in FIRST_CLOSE_REASONS:
            CloseReason.objects.get_or_create(kind=kind, name=name)
