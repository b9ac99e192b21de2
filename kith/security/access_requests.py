"""Access requests for sensitive data: a user without clearance asks to see one record's sensitive fields
for a stated purpose; their manager (anyone above them in the chain) or a data steward (a role with
(object type, "approve")) decides; an approval grants access to that record only until it expires
(``KITH_ACCESS_GRANT_HOURS``, 24 by default). ``masking.field_view`` reads the grants.

The audit trail records the request, the decision and the expiry (model changes of ``AccessRequest``, on
the customer's history too) and every view under a grant (``note_sensitive_view``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.errors import DomainError
from kith.core.links import absolute
from kith.security import masking
from kith.security.models import AccessRequest, AccessRequestStatus, Reach, Role, User
from kith.security.rules import APPROVE, has_clearance, has_permission, is_signed_in

logger = logging.getLogger(__name__)

MIN_PURPOSE = 10
MAX_PURPOSE = 2000
MAX_COMMENT = 500


def grant_hours() -> int:
    return int(getattr(settings, "KITH_ACCESS_GRANT_HOURS", 24))


# --- records the requests are about (registered by the app that owns them) ---------------------------
@dataclass(frozen=True)
class RecordType:
    object_type: str
    # (user, key) -> the record ``user`` may see, or raise Http404
    find: Callable[[Any, str], Any]
    # ids -> {id: record kind} (for masking audit entries, which only carry the id)
    kinds: Callable[[Iterable[int]], dict[int, str]]
    # record -> (stable key, label)
    describe: Callable[[Any], tuple[str, str]]
    # the page of one record, from its key
    url: Callable[[str], str]
    # the audit trail's name of the record's model (``parties.customer``)
    audit_type: str = ""


_record_types: dict[str, RecordType] = {}


def register_records(
    object_type: str,
    *,
    find: Callable[[Any, str], Any],
    kinds: Callable[[Iterable[int]], dict[int, str]],
    describe: Callable[[Any], tuple[str, str]],
    url: Callable[[str], str],
    audit_type: str = "",
) -> None:
    _record_types[object_type] = RecordType(object_type, find, kinds, describe, url, audit_type)


def record_type(object_type: str) -> RecordType:
    try:
        return _record_types[object_type]
    except KeyError:
        raise LookupError(f"no records registered for {object_type!r}") from None


def record_kinds(object_type: str, ids: Iterable[int]) -> dict[int, str]:
    entry = _record_types.get(object_type)
    return entry.kinds(ids) if entry else {}


def record_url(access_request: AccessRequest) -> str:
    entry = _record_types.get(access_request.object_type)
    return entry.url(access_request.object_key) if entry else ""


# --- who decides --------------------------------------------------------------------------------------
def is_above(manager: Any, member_id: int) -> bool:
    """``manager`` is anywhere above ``member_id`` in the manager chain."""
    return Reach.objects.filter(manager_id=manager.pk, member_id=member_id, depth__gte=1).exists()


def can_decide(user: Any, access_request: AccessRequest) -> bool:
    """The requester's manager (any level up) or a holder of (object type, approve); never the requester."""
    if not is_signed_in(user) or user.pk == access_request.requester_id:
        return False
    return is_above(user, access_request.requester_id) or has_permission(
        user, access_request.object_type, APPROVE
    )


def data_stewards(object_type: str, *, exclude: Iterable[int] = ()) -> list[User]:
    """Active users holding a role with (object type, approve)."""
    wanted = f"{object_type}.{APPROVE}"
    role_ids = [pk for pk, perms in Role.objects.values_list("pk", "permissions") if wanted in (perms or [])]
    return list(
        User.objects.filter(is_active=True, roles__in=role_ids)
        .exclude(pk__in=list(exclude))
        .distinct()
        .order_by("pk")
    )


def approvers_for(requester: User, object_type: str) -> list[User]:
    """Who is asked: the requester's manager, or when they have none (or it is disabled) the data stewards."""
    manager = requester.manager
    if manager is not None and manager.is_active:
        return [manager]
    return data_stewards(object_type, exclude=[requester.pk])


# --- writes -------------------------------------------------------------------------------------------
def _changed(actor: Any) -> None:
    """Grants changed: what this process worked out per user (``masking``) is recomputed (other
    processes work it out per request anyway)."""
    from kith.security.selectors import note_local_change

    masking.forget(actor)
    note_local_change()
    transaction.on_commit(note_local_change)


class AlreadyDecided(DomainError):
    code = "already_decided"
    status = 409

    def default_message(self) -> str:
        return str(_("This request was decided already."))


@transaction.atomic
def request_access(
    *, actor: Any, object_type: str, record: Any, purpose: str, fields: Iterable[str] = ()
) -> AccessRequest:
    """Ask to see ``record``'s sensitive fields (``fields``: some of them; none: all that are masked)."""
    if not is_signed_in(actor):
        raise PermissionDenied(_("Sign in to ask for access."))
    errors: dict[str, list[str]] = {}
    purpose = (purpose or "").strip()
    if len(purpose) < MIN_PURPOSE:
        errors["purpose"] = [
            _("Say why you need the data in at least %(n)d characters.") % {"n": MIN_PURPOSE}
        ]
    elif len(purpose) > MAX_PURPOSE:
        errors["purpose"] = [_("At most %(n)d characters.") % {"n": MAX_PURPOSE}]
    masking.forget(actor)
    view = masking.field_view(actor, record, object_type=object_type)
    wanted = sorted(dict.fromkeys(str(f) for f in fields or ()))
    unknown = [f for f in wanted if f not in view.masked]
    if unknown:
        errors["fields"] = [
            _("These fields are not masked for you on this record: %(fields)s")
            % {"fields": ", ".join(unknown)}
        ]
    if has_clearance(actor) or not view.masked:
        errors.setdefault("__all__", []).append(_("Nothing on this record is masked for you."))
    pending = AccessRequest.objects.filter(
        requester_id=actor.pk,
        object_type=object_type,
        object_id=record.pk,
        status=AccessRequestStatus.PENDING,
    ).exists()
    if pending:
        errors.setdefault("__all__", []).append(
            _("You asked for this record already: wait for the decision or withdraw that request.")
        )
    if errors:
        raise ValidationError(errors)
    key, label = record_type(object_type).describe(record)
    created = AccessRequest.objects.create(
        requester=actor,
        object_type=object_type,
        object_id=record.pk,
        object_key=key[:60],
        object_label=label[:200],
        purpose=purpose,
        fields=wanted,
    )
    transaction.on_commit(lambda: _enqueue_notice(created.pk))
    return created


@transaction.atomic
def decide(*, actor: Any, access_request: AccessRequest, approve: bool, comment: str = "") -> AccessRequest:
    """Approve (grant access until now + KITH_ACCESS_GRANT_HOURS) or reject a pending request."""
    locked = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if is_signed_in(actor) and actor.pk == locked.requester_id:
        raise PermissionDenied(_("You cannot decide your own request."))
    if not can_decide(actor, locked):
        raise PermissionDenied(_("Only the requester's manager or a data steward may decide this request."))
    if locked.status != AccessRequestStatus.PENDING:
        raise AlreadyDecided()
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": [_("At most %(n)d characters.") % {"n": MAX_COMMENT}]})
    now = timezone.now()
    locked.status = AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REJECTED
    locked.approver = actor
    locked.decided_at = now
    locked.decision_comment = comment
    locked.expires_at = now + dt.timedelta(hours=grant_hours()) if approve else None
    locked.save(update_fields=["status", "approver", "decided_at", "decision_comment", "expires_at"])
    _changed(actor)
    transaction.on_commit(lambda: _enqueue_notice(locked.pk))
    return locked


@transaction.atomic
def withdraw(*, actor: Any, access_request: AccessRequest) -> AccessRequest:
    """The requester takes back a pending request, or ends an approved one early."""
    locked = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if not is_signed_in(actor) or actor.pk != locked.requester_id:
        raise PermissionDenied(_("Only the requester may withdraw a request."))
    if locked.status not in (AccessRequestStatus.PENDING, AccessRequestStatus.APPROVED):
        raise AlreadyDecided()
    locked.status = AccessRequestStatus.WITHDRAWN
    if locked.expires_at and locked.expires_at > timezone.now():
        locked.expires_at = timezone.now()
    locked.save(update_fields=["status", "expires_at"])
    _changed(actor)
    return locked


def expire_due(*, now: dt.datetime | None = None) -> int:
    """Mark approved requests whose time is up as expired (each one an audit entry). The grant itself
    ends at ``expires_at`` whether or not this has run: ``field_view`` compares the time."""
    now = now or timezone.now()
    count = 0
    due = AccessRequest.objects.filter(status=AccessRequestStatus.APPROVED, expires_at__lte=now)
    for pk in list(due.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            row = (
                AccessRequest.objects.select_for_update()
                .filter(pk=pk, status=AccessRequestStatus.APPROVED)
                .first()
            )
            if row is None:
                continue
            row.status = AccessRequestStatus.EXPIRED
            row.save(update_fields=["status"])
            count += 1
    return count


def note_sensitive_view(user: Any, record: Any, view: masking.FieldView, *, channel: str) -> None:
    """Record a view of ``record``'s sensitive fields under an access grant (nothing without one)."""
    if view.grant_id is None or not view.granted:
        return
    from kith.audit.choices import Action
    from kith.audit.services import record_event

    if isinstance(record, dict):  # a row of a list
        entry = _record_types.get(view.object_type)
        where: dict[str, Any] = {
            "object_type": entry.audit_type if entry else view.object_type,
            "object_id": record["id"],
            "object_repr": str(record.get("display_name") or "")[:200],
        }
        pk = int(record["id"])
    else:
        where, pk = {"obj": record}, int(record.pk)
    record_event(
        Action.VIEW_SENSITIVE,
        **where,
        customer_id=pk if view.object_type == "customer" else None,
        details={
            "access_request": view.grant_id,
            "purpose": view.purpose,
            "fields": sorted(view.granted),
            "channel": channel,
        },
        actor=user,
    )


# --- email --------------------------------------------------------------------------------------------
def _enqueue_notice(request_id: int) -> None:
    from kith.security.tasks import access_request_notice

    try:
        access_request_notice.enqueue(request_id)
    except Exception:
        logger.exception("could not queue the email for access request %s", request_id)


def send_notice(request_id: int) -> list[str]:
    """Email the approvers of a pending request, or the requester once it is decided; return addresses."""
    from django.core.mail import send_mail
    from django.utils import translation

    row = AccessRequest.objects.select_related("requester", "approver").filter(pk=request_id).first()
    if row is None:
        return []
    link = absolute(reverse("access_requests:list"))
    with translation.override(settings.LANGUAGE_CODE):
        if row.status == AccessRequestStatus.PENDING:
            recipients = [u.email for u in approvers_for(row.requester, row.object_type) if u.email]
            subject = _("Kith: %(user)s asks to see sensitive data of %(record)s") % {
                "user": row.requester,
                "record": row.object_label or row.object_key,
            }
            body = _(
                "%(user)s asks to see the sensitive fields of %(record)s (%(key)s).\n\n"
                "Purpose: %(purpose)s\n\nApprove or reject it at %(link)s\n"
            ) % {
                "user": row.requester,
                "record": row.object_label,
                "key": row.object_key,
                "purpose": row.purpose,
                "link": link,
            }
        else:
            recipients = [row.requester.email] if row.requester.email else []
            subject = _("Kith: your access request for %(record)s was %(status)s") % {
                "record": row.object_label or row.object_key,
                "status": row.get_status_display(),
            }
            body = _("%(approver)s %(status)s your request for %(record)s.\n%(comment)s\n%(link)s\n") % {
                "approver": row.approver or "",
                "status": row.get_status_display(),
                "record": row.object_label,
                "comment": row.decision_comment,
                "link": link,
            }
        if recipients:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return recipients


# --- reads --------------------------------------------------------------------------------------------
def requests_of(user: Any) -> QuerySet[AccessRequest]:
    """``user``'s own requests, newest first."""
    return AccessRequest.objects.filter(requester_id=user.pk).select_related("approver")


def requests_to_decide(user: Any) -> QuerySet[AccessRequest]:
    """Pending requests ``user`` is asked to decide: of anyone below them in the chain, and, for data
    stewards, of requesters without a manager. Never their own."""
    if not is_signed_in(user):
        return AccessRequest.objects.none()
    below = Reach.objects.filter(manager_id=user.pk, depth__gte=1).values("member_id")
    condition = Q(requester_id__in=below)
    stewarded = [t for t in _record_types if has_permission(user, t, APPROVE)]
    if stewarded:
        condition |= Q(object_type__in=stewarded) & (
            Q(requester__manager__isnull=True) | Q(requester__manager__is_active=False)
        )
    return (
        AccessRequest.objects.filter(condition, status=AccessRequestStatus.PENDING)
        .exclude(requester_id=user.pk)
        .select_related("requester")
        .order_by("created_at", "id")
    )


def decidable(user: Any, pk: int) -> AccessRequest | None:
    """One request ``user`` may see: their own, or one they may decide."""
    row = AccessRequest.objects.select_related("requester", "approver").filter(pk=pk).first()
    if row is None:
        return None
    if row.requester_id == getattr(user, "pk", None) or can_decide(user, row):
        return row
    return None
