"""Every change to contracts: create, edit, delete, the attached document (type and size checked), and the
daily renewal reminders.

Rules (also in docs/sales-orders.md):

* A contract is for a customer that is not archived (when created); it has a title and a start date; the
  end is not before the start; the value is not negative, with no more decimals than its currency
  allows; the notice period is 0 to 3650 days.
* The document: PDF, Word (.docx), OpenDocument text (.odt), PNG, JPEG or plain text, at most
  ``KITH_CONTRACT_DOCUMENT_MAX_MB`` (10) megabytes; the content must match the extension (a renamed file is
  refused). It is stored under a random name in ``MEDIA_ROOT/contracts`` (the instance folder's ``media``
  when ``MEDIA_ROOT`` is unset) with its original name, type, size and SHA-256 kept on the contract; only
  someone who may see the contract downloads it. A replaced or removed file is deleted after commit.
* Renewal reminders: every day (``kith schedule``, job ``sales.contract_renewals``) the owner of each
  active contract whose renewal date is within ``KITH_CONTRACT_RENEWAL_DAYS`` (30) days gets one email
  listing them, once per renewal date (a new renewal date is reminded of again). Emails leave after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.errors import ConflictError
from kith.sales import currencies
from kith.sales.cleaning import Errors, add_error, blank, clean_date, clean_text
from kith.sales.models import Contract, ContractStatus
from kith.sales.order_types import CONTRACT, TIMELINE_CONTRACT
from kith.sales.services.orders import clean_customer, money, sync
from kith.security.rules import CREATE, DELETE, EDIT, require_permission
from kith.security.selectors import visible_q

logger = logging.getLogger(__name__)

DEFAULT_MAX_MB = 10
DEFAULT_RENEWAL_DAYS = 30
# extension: (content type, how the file starts — None: text that must be UTF-8)
DOCUMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain", None),
}
_FIELDS = (
    "title",
    "reference",
    "status",
    "start_date",
    "end_date",
    "value",
    "currency",
    "renewal_date",
    "auto_renew",
    "notice_days",
    "notes",
    "owner",
)


def _require(actor: Any, action: str) -> None:
    if actor is not None:
        require_permission(actor, CONTRACT, action)


def _within_reach(actor: Any, contract: Contract, *, write: bool) -> None:
    if (
        actor is not None
        and not Contract.objects.filter(visible_q(actor, CONTRACT, write=write), pk=contract.pk).exists()
    ):
        raise PermissionDenied(_("You may not change this contract."))


def max_document_bytes() -> int:
    try:
        megabytes = float(getattr(settings, "KITH_CONTRACT_DOCUMENT_MAX_MB", DEFAULT_MAX_MB))
    except (TypeError, ValueError):
        megabytes = DEFAULT_MAX_MB
    return int(megabytes * 1024 * 1024)


def renewal_days() -> int:
    try:
        return max(0, int(getattr(settings, "KITH_CONTRACT_RENEWAL_DAYS", DEFAULT_RENEWAL_DAYS)))
    except (TypeError, ValueError):
        return DEFAULT_RENEWAL_DAYS


def check_document(upload: Any, errors: Errors) -> tuple[str, str, int, str] | None:
    """(original name, content type, size, SHA-256) of an acceptable upload, else a message on
    ``document``. Reads the file once."""
    name = Path(str(getattr(upload, "name", "") or "")).name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in DOCUMENT_TYPES:
        add_error(
            errors,
            "document",
            _("Attach a PDF, Word (.docx), OpenDocument (.odt), PNG, JPEG or text file."),
        )
        return None
    size = int(getattr(upload, "size", 0) or 0)
    limit = max_document_bytes()
    if size > limit:
        add_error(errors, "document", _("The file is larger than %(n)d MB.") % {"n": limit // (1024 * 1024)})
        return None
    if size == 0:
        add_error(errors, "document", _("The file is empty."))
        return None
    digest = hashlib.sha256()
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < 16:
            head += chunk[:16]
        digest.update(chunk)
    content_type, signatures = DOCUMENT_TYPES[suffix]
    if signatures is None:
        upload.seek(0)
        try:
            upload.read().decode("utf-8")
        except UnicodeDecodeError:
            add_error(errors, "document", _("This is not a text file."))
            return None
    elif not any(head.startswith(s) for s in signatures):
        add_error(
            errors,
            "document",
            _("The file's content does not match its %(ext)s extension.") % {"ext": suffix},
        )
        return None
    upload.seek(0)
    return name, content_type, size, digest.hexdigest()


def _owner(value: Any, actor: Any, errors: Errors) -> Any:
    from kith.sales.services.orders import _owner as order_owner

    return order_owner(value, actor, errors)


def _clean(
    data: dict[str, Any], contract: Contract, actor: Any, errors: Errors, *, creating: bool
) -> list[str]:
    """Apply ``data``'s fields to ``contract``; return the names changed."""
    changed: list[str] = []
    fields = _FIELDS if creating else [f for f in _FIELDS if f in data]
    for name in fields:
        value = data.get(name)
        if name == "title":
            contract.title = clean_text(value, "title", 200, errors, required=_("Give the contract a title."))
        elif name == "reference":
            contract.reference = clean_text(value, "reference", 64, errors)
        elif name == "notes":
            contract.notes = clean_text(value, "notes", 10000, errors)
        elif name == "status":
            status = str(value or ContractStatus.ACTIVE).strip()
            if status not in ContractStatus.values:
                add_error(
                    errors,
                    "status",
                    _("Choose one of: %(values)s.") % {"values": ", ".join(ContractStatus.values)},
                )
            contract.status = status
        elif name == "start_date":
            day = clean_date(value, "start_date", errors, required=True)
            if day is not None:
                contract.start_date = day
        elif name in ("end_date", "renewal_date"):
            setattr(contract, name, clean_date(value, name, errors))
        elif name == "currency":
            contract.currency = currencies.clean_code(value or currencies.default_code(), "currency", errors)
        elif name == "auto_renew":
            contract.auto_renew = value in (True, "true", "True", "on", "1", 1)
        elif name == "notice_days":
            text = "0" if blank(value) else str(value).strip()
            if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) > 3650:
                add_error(errors, "notice_days", _("Enter a number of days from 0 to 3650."))
            else:
                contract.notice_days = int(text)
        elif name == "owner":
            owner = _owner(value, actor, errors)
            contract.owner = owner
        if name != "value":
            changed.append(name)
    if creating or "value" in data or "currency" in data:
        raw = data.get("value", contract.value if not creating else None)
        currency = contract.currency if "currency" not in errors else None
        amount = currencies.clean_amount(raw if not blank(raw) else "0", "value", errors, currency=currency)
        if amount is not None:
            contract.value = amount
        changed.append("value")
    if contract.start_date and contract.end_date and contract.end_date < contract.start_date:
        add_error(errors, "end_date", _("The contract ends before it starts."))
    return changed


def _store(contract: Contract, upload: Any, checked: tuple[str, str, int, str]) -> None:
    name, content_type, size, sha = checked
    contract.document.save(name, upload, save=False)
    contract.document_name, contract.document_type, contract.document_size, contract.document_sha256 = (
        name,
        content_type,
        size,
        sha,
    )


def _delete_file_later(storage: Any, name: str) -> None:
    if not name:
        return

    def delete() -> None:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("contract document %s could not be deleted", name)

    transaction.on_commit(delete)


def _publish(contract: Contract, actor: Any, title: str) -> None:
    end = contract.end_date.isoformat() if contract.end_date else "…"
    timeline.publish(
        subject=contract.customer,
        kind=TIMELINE_CONTRACT,
        occurred_at=timezone.now(),
        title=title,
        summary=_("%(start)s – %(end)s · %(value)s")
        % {
            "start": contract.start_date.isoformat(),
            "end": end,
            "value": money(contract.value, contract.currency),
        },
        actor=actor,
        source=contract,
    )


@transaction.atomic
def contract_create(*, actor: Any, data: dict[str, Any], document: Any = None) -> Contract:
    """A new contract (``customer`` and the fields of ``_FIELDS``; ``document``: an uploaded file)."""
    _require(actor, CREATE)
    errors: Errors = {}
    customer = clean_customer(data.get("customer"), actor, errors, verb=_("making a contract with it"))
    contract = Contract(customer=customer, created_by=actor if getattr(actor, "pk", None) else None)
    _clean(data, contract, actor, errors, creating=True)
    checked = check_document(document, errors) if document is not None else None
    if errors:
        raise ValidationError(errors)
    if checked is not None:
        _store(contract, document, checked)
    try:
        contract.save()
        if (
            actor is not None
            and not Contract.objects.filter(visible_q(actor, CONTRACT), pk=contract.pk).exists()
        ):
            raise ValidationError(
                {
                    "owner": [
                        _(
                            "You would no longer see this contract: keep yourself or one of your team as its owner."
                        )
                    ]
                }
            )
        _publish(contract, actor, _("Contract “%(title)s”") % {"title": contract.title})
    except BaseException:
        if contract.document:
            contract.document.storage.delete(contract.document.name)
        raise
    return contract


@transaction.atomic
def contract_update(
    *,
    actor: Any,
    contract: Contract,
    data: dict[str, Any],
    document: Any = None,
    remove_document: bool = False,
    expected_version: int | None = None,
) -> Contract:
    """Change the fields ``data`` names; ``document`` replaces the file, ``remove_document`` drops it. A
    new renewal date is reminded of again."""
    _require(actor, EDIT)
    _within_reach(actor, contract, write=True)
    fresh = Contract.objects.select_for_update().filter(pk=contract.pk).first()
    if fresh is None:
        raise ConflictError()
    version = contract.version if expected_version is None else int(expected_version)
    if fresh.version != version:
        raise ConflictError()
    errors: Errors = {}
    old_renewal = fresh.renewal_date
    old_file = fresh.document.name if fresh.document else ""
    _clean(data, fresh, actor, errors, creating=False)
    checked = check_document(document, errors) if document is not None else None
    if errors:
        raise ValidationError(errors)
    if fresh.renewal_date != old_renewal:
        fresh.reminded_for = None
    stored_new = False
    try:
        if checked is not None:
            _store(fresh, document, checked)
            stored_new = True
        elif remove_document and old_file:
            fresh.document = ""  # type: ignore[assignment]
            fresh.document_name = fresh.document_type = fresh.document_sha256 = ""
            fresh.document_size = None
        fresh.version += 1
        fresh.save()
        if (
            actor is not None
            and not Contract.objects.filter(visible_q(actor, CONTRACT), pk=fresh.pk).exists()
        ):
            raise ValidationError(
                {
                    "owner": [
                        _(
                            "You would no longer see this contract: keep yourself or one of your team as its owner."
                        )
                    ]
                }
            )
    except BaseException:
        if stored_new:
            fresh.document.storage.delete(fresh.document.name)
        raise
    if old_file and (stored_new or remove_document):
        _delete_file_later(fresh.document.storage, old_file)
    end = fresh.end_date.isoformat() if fresh.end_date else "…"
    timeline.update_for_source(
        fresh,
        title=(_("Contract “%(title)s”") % {"title": fresh.title})[:300],
        summary=_("%(start)s – %(end)s · %(value)s")
        % {"start": fresh.start_date.isoformat(), "end": end, "value": money(fresh.value, fresh.currency)},
    )
    sync(contract, fresh)
    return contract


@transaction.atomic
def contract_delete(*, actor: Any, contract: Contract, expected_version: int | None = None) -> None:
    """Delete a contract (entered by mistake), its timeline entry and, after commit, its document."""
    _require(actor, DELETE)
    _within_reach(actor, contract, write=True)
    fresh = Contract.objects.select_for_update().filter(pk=contract.pk).first()
    if fresh is None:
        raise ConflictError()
    if expected_version is not None and fresh.version != int(expected_version):
        raise ConflictError()
    name = fresh.document.name if fresh.document else ""
    storage = fresh.document.storage
    timeline.retract(fresh)
    fresh.delete()
    _delete_file_later(storage, name)


# --- renewal reminders -----------------------------------------------------------------------------


def due_for_reminder(today: dt.date) -> Any:
    """Active contracts renewing within the reminder window whose owner has not been reminded of that
    renewal date yet."""
    until = today + dt.timedelta(days=renewal_days())
    return (
        Contract.objects.filter(
            status=ContractStatus.ACTIVE,
            renewal_date__gte=today,
            renewal_date__lte=until,
            owner__isnull=False,
            owner__is_active=True,
        )
        .exclude(owner__email="")
        .exclude(Q(reminded_for__isnull=False) & Q(reminded_for=F("renewal_date")))
        .select_related("owner", "customer")
        .order_by("owner_id", "renewal_date", "pk")
    )


def _reminder(owner: Any, contracts: list[Contract], today: dt.date) -> EmailMessage:
    lines = [
        _("%(date)s  %(title)s — %(customer)s (%(number)s)%(auto)s")
        % {
            "date": c.renewal_date.isoformat() if c.renewal_date else "",
            "title": c.title,
            "customer": c.customer.display_name,
            "number": c.customer.customer_number,
            "auto": _(", renews automatically") if c.auto_renew else "",
        }
        + (_("; notice %(days)d days") % {"days": c.notice_days} if c.notice_days else "")
        for c in contracts
    ]
    subject = _("%(n)d contract renewal(s) coming up") % {"n": len(contracts)}
    body = "\n".join(
        [
            _("These contracts you own renew within %(days)d days:") % {"days": renewal_days()},
            "",
            *lines,
            "",
            _("— Kith"),
        ]
    )
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[owner.email])


@transaction.atomic
def send_renewal_reminders(*, today: dt.date | None = None) -> list[str]:
    """Email each owner their contracts due for a reminder, mark them reminded; the emails leave after
    commit. Return the addresses written to."""
    today = today or timezone.localdate()
    by_owner: dict[int, list[Contract]] = defaultdict(list)
    owners: dict[int, Any] = {}
    due = list(due_for_reminder(today).select_for_update(of=("self",)))
    for contract in due:
        assert contract.owner is not None
        by_owner[contract.owner.pk].append(contract)
        owners[contract.owner.pk] = contract.owner
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for pk, contracts in by_owner.items():
            messages.append(_reminder(owners[pk], contracts, today))
    for contract in due:
        contract.reminded_for = contract.renewal_date
        contract.save(update_fields=["reminded_for"])
    if messages:

        def send() -> None:
            try:
                with get_connection() as connection:
                    connection.send_messages(messages)
            except Exception:  # a mail server down: logged; the next renewal date is reminded of
                logger.exception("contract renewal reminders could not be sent")

        transaction.on_commit(send)
    return [m.to[0] for m in messages]
