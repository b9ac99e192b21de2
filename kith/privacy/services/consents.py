"""Recording consents (append-only) and keeping the purpose catalogue."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError, DomainError
from kith.privacy.choices import ConsentChannel, ConsentStatus
from kith.privacy.models import ConsentPurpose, ConsentRecord, ErasureRecord
from kith.security import rules

_CODE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
EVIDENCE_MAX = 2000


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _resolve_purpose(value: Any, errors: dict[str, list[str]]) -> ConsentPurpose | None:
    if isinstance(value, ConsentPurpose):
        purpose: ConsentPurpose | None = value
    elif value in (None, ""):
        errors["purpose"] = [_("Choose a purpose.")]
        return None
    else:
        text = str(value).strip()
        query = ConsentPurpose.objects.filter(code=text)
        if text.isascii() and text.isdigit() and len(text) < 19:
            query = ConsentPurpose.objects.filter(pk=int(text)) | query
        purpose = query.first()
    if purpose is None:
        errors["purpose"] = [_("There is no consent purpose “%(value)s”.") % {"value": value}]
    elif not purpose.is_active:
        errors["purpose"] = [_("This purpose is retired; choose another one.")]
        return None
    return purpose


def _when(value: Any, errors: dict[str, list[str]]) -> dt.datetime:
    now = timezone.now()
    if value in (None, ""):
        return now
    when = value if isinstance(value, dt.datetime) else None
    if isinstance(value, str):
        try:
            when = parse_datetime(value.strip())
        except ValueError:
            when = None
    if when is None:
        errors["occurred_at"] = [_("Enter a valid date and time.")]
        return now
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > now + dt.timedelta(minutes=5):
        errors["occurred_at"] = [_("A consent cannot be given or withdrawn in the future.")]
    elif when.year < 1990:
        errors["occurred_at"] = [_("This date is too far in the past.")]
    return when


@transaction.atomic
def consent_record(
    *,
    actor: Any,
    customer: Any,
    purpose: Any,
    channel: str,
    status: str,
    occurred_at: Any = None,
    evidence: str = "",
) -> ConsentRecord:
    """Add a statement of consent (given or withdrawn). Earlier statements stay as they were.

    The newest statement by ``occurred_at`` is the one in force; one entered late with an earlier date
    joins the history without replacing a newer one."""
    rules.require_permission(actor, "privacy", rules.EDIT)
    if ErasureRecord.objects.filter(customer_id=customer.pk).exists():
        raise DomainError(_("This customer was erased; no consents can be recorded."), code="erased")
    errors: dict[str, list[str]] = {}
    chosen = _resolve_purpose(purpose, errors)
    if channel not in ConsentChannel.values:
        errors["channel"] = [_("Choose a channel.")]
    if status not in ConsentStatus.values:
        errors["status"] = [_("Choose given or withdrawn.")]
    when = _when(occurred_at, errors)
    evidence = (evidence or "").strip()
    if len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = [
            _("At most %(limit)d characters (this has %(count)d).")
            % {"limit": EVIDENCE_MAX, "count": len(evidence)}
        ]
    if status == ConsentStatus.GIVEN and not evidence:
        errors["evidence"] = [_("Say where the consent comes from (form, call, signed paper ...).")]
    if errors:
        raise ValidationError(errors)
    assert chosen is not None
    group = ConsentRecord.objects.filter(customer_id=customer.pk, purpose=chosen, channel=channel)
    current = group.select_for_update().filter(is_current=True).first()
    becomes_current = current is None or when >= current.occurred_at
    try:
        with transaction.atomic():
            if becomes_current and current is not None:
                group.filter(pk=current.pk).update(is_current=False)
            return ConsentRecord.objects.create(
                customer_id=customer.pk,
                purpose=chosen,
                channel=channel,
                status=status,
                occurred_at=when,
                evidence=evidence,
                recorded_by=_actor(actor),
                is_current=becomes_current,
            )
    except IntegrityError as exc:  # someone recorded a statement for the same purpose at the same moment
        raise ConflictError() from exc


def withdraw_all(*, actor: Any, customer: Any, evidence: str) -> int:
    """Withdraw every consent currently given (used by erasure); returns how many were withdrawn."""
    given = list(
        ConsentRecord.objects.filter(customer_id=customer.pk, is_current=True, status=ConsentStatus.GIVEN)
    )
    now = timezone.now()
    for record in given:
        ConsentRecord.objects.filter(pk=record.pk).update(is_current=False)
        ConsentRecord.objects.create(
            customer_id=customer.pk,
            purpose_id=record.purpose_id,
            channel=record.channel,
            status=ConsentStatus.WITHDRAWN,
            occurred_at=max(now, record.occurred_at),
            evidence=evidence,
            recorded_by=_actor(actor),
            is_current=True,
        )
    return len(given)


# --- the purpose catalogue -------------------------------------------------------------------------


def _clean_purpose(data: dict[str, Any], *, base: ConsentPurpose | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if base is None or "code" in data:
        code = str(data.get("code") or "").strip().lower()
        if not code:
            errors["code"] = [_("Give a short code, e.g. marketing_email.")]
        elif len(code) > 40 or not _CODE.match(code):
            errors["code"] = [_("Use at most 40 lowercase letters, digits, - and _.")]
        elif ConsentPurpose.objects.filter(code=code).exclude(pk=base.pk if base else 0).exists():
            errors["code"] = [_("This code is already used.")]
        values["code"] = code
    if base is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Give the purpose a name.")]
        elif len(name) > 100:
            errors["name"] = [_("At most 100 characters.")]
        values["name"] = name
    if "description" in data:
        description = str(data.get("description") or "").strip()
        if len(description) > 300:
            errors["description"] = [_("At most 300 characters.")]
        values["description"] = description
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def purpose_create(*, actor: Any, data: dict[str, Any]) -> ConsentPurpose:
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    return ConsentPurpose.objects.create(**_clean_purpose(data, base=None))


@transaction.atomic
def purpose_update(*, actor: Any, purpose: ConsentPurpose, data: dict[str, Any]) -> ConsentPurpose:
    """The code of a purpose in use stays: other modules ask ``may_contact`` by code."""
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    values = _clean_purpose(data, base=purpose)
    if values.get("code", purpose.code) != purpose.code and purpose.records.exists():
        raise ValidationError({"code": [_("This purpose has consent records; its code cannot change.")]})
    for field, value in values.items():
        setattr(purpose, field, value)
    purpose.save()
    return purpose
