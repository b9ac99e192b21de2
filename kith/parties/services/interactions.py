"""Interactions (visits, calls, complaints ...) and their place on the customer timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.errors import ConflictError, DomainError
from kith.parties.choices import Channel, CustomerStatus, InteractionKind, Outcome
from kith.parties.models import Customer, Interaction
from kith.parties.services.access import require_change


def timeline_kind(kind: str) -> str:
    return f"parties.{kind}"


def _clean(data: dict[str, Any], *, base: Interaction | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field in (
        "kind",
        "occurred_at",
        "channel",
        "subject",
        "content",
        "outcome",
        "follow_up_date",
        "actor",
    ):
        if field in data:
            values[field] = data[field]
    if "kind" in values and values["kind"] not in InteractionKind.values:
        errors["kind"] = [_("Choose the type of interaction.")]
    if values.get("channel") and values["channel"] not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    if values.get("outcome") and values["outcome"] not in Outcome.values:
        errors["outcome"] = [_("Unknown outcome.")]
    if "occurred_at" in values:
        when = values["occurred_at"]
        if isinstance(when, str):
            when = parse_datetime(when.strip()) if when.strip() else None
        if when is None:
            errors["occurred_at"] = [_("Enter when it happened.")]
        else:
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
            if when > timezone.now() + dt.timedelta(days=366):
                errors["occurred_at"] = [_("This is more than a year in the future.")]
            values["occurred_at"] = when
    if "subject" in values:
        values["subject"] = (values["subject"] or "").strip()
        if not values["subject"]:
            errors["subject"] = [_("Give a short subject.")]
        elif len(values["subject"]) > 200:
            errors["subject"] = [_("At most 200 characters.")]
    if "follow_up_date" in values:
        value = values["follow_up_date"] or None
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                errors["follow_up_date"] = [_("Enter a valid date (YYYY-MM-DD).")]
        values["follow_up_date"] = value
    for field in ("channel", "content", "outcome"):
        if field in values and values[field] is None:
            values[field] = ""
    if base is None:
        for field in ("kind", "subject"):
            if field not in values and field not in errors:
                errors[field] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return values


def _summary(interaction: Interaction) -> str:
    text = interaction.content.strip()
    return text[:500] + ("…" if len(text) > 500 else "")


@transaction.atomic
def interaction_create(*, actor: Any, customer: Customer, data: dict[str, Any]) -> Interaction:
    require_change(actor, customer, "interaction", "create")
    if customer.status == CustomerStatus.ARCHIVED:
        raise DomainError(_("This customer is archived. Reactivate it before recording new business."))
    values = _clean(data, base=None)
    values.setdefault("occurred_at", timezone.now())
    user = actor if getattr(actor, "pk", None) else None
    values.setdefault("actor", user)
    interaction = Interaction.objects.create(customer=customer, created_by=user, **values)
    timeline.publish(
        subject=customer,
        kind=timeline_kind(interaction.kind),
        occurred_at=interaction.occurred_at,
        title=interaction.subject,
        summary=_summary(interaction),
        actor=interaction.actor,
        source=interaction,
    )
    return interaction


@transaction.atomic
def interaction_update(
    *, actor: Any, interaction: Interaction, expected_version: int | None, data: dict[str, Any]
) -> Interaction:
    require_change(actor, interaction.customer, "interaction", "edit")
    values = _clean(data, base=interaction)
    version = interaction.version if expected_version is None else int(expected_version)
    for field, value in values.items():
        setattr(interaction, field, value)
    updated = Interaction.objects.filter(pk=interaction.pk, version=version).update(
        **values, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise ConflictError()
    interaction.version = version + 1
    timeline.update_for_source(
        interaction,
        kind=timeline_kind(interaction.kind),
        occurred_at=interaction.occurred_at,
        title=interaction.subject[:300],
        summary=_summary(interaction),
        actor=interaction.actor,
    )
    return interaction


@transaction.atomic
def interaction_delete(*, actor: Any, interaction: Interaction) -> None:
    require_change(actor, interaction.customer, "interaction", "delete")
    timeline.retract(interaction)
    interaction.delete()
