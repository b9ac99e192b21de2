"""Approvals of large deals and discounts: the limits, whether a deal needs one, request, decide, withdraw.

The limits live in the site settings (``kith.core.settings_store``):

* ``sales.approval.max_discount_percent``: a discount above it needs an approval (default 10);
* ``sales.approval.max_amount`` and ``sales.approval.max_amount_currency``: an amount above it needs an
  approval (default 100000 in ``KITH_DEFAULT_CURRENCY``, EUR when that is unset). An amount in another
  currency is converted at the latest exchange rate; with no rate the deal needs an approval (and the
  reason says so).

The approver is the deal owner's manager; when the owner has none (or a deactivated one), anyone holding
(opportunity, approve) decides. A superuser or a holder of (opportunity, approve) above the owner in the
manager chain may decide too; never the person who asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core import settings_store
from kith.core.errors import DomainError
from kith.sales import currencies
from kith.sales.choices import OPPORTUNITY, ApprovalStatus
from kith.sales.models import Approval, Opportunity
from kith.security.models import Reach, User
from kith.security.rules import ADMINISTER, APPROVE, EDIT, has_permission, is_signed_in, require_permission

logger = logging.getLogger(__name__)

MAX_DISCOUNT_KEY = "sales.approval.max_discount_percent"
MAX_AMOUNT_KEY = "sales.approval.max_amount"
MAX_AMOUNT_CURRENCY_KEY = "sales.approval.max_amount_currency"
DEFAULT_MAX_DISCOUNT = Decimal("10")
DEFAULT_MAX_AMOUNT = Decimal("100000")
FALLBACK_CURRENCY = "EUR"


class ApprovalRefused(DomainError):
    code = "approval_refused"
    status = 409


class AlreadyDecided(DomainError):
    code = "already_decided"
    status = 409

    def default_message(self) -> str:
        return _("This approval was already decided or withdrawn.")


# --- limits -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    max_discount_percent: Decimal
    max_amount: Decimal
    currency: str


def _decimal(value: Any, default: Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return default
    return number if number.is_finite() and number >= 0 else default


def approval_limits() -> Limits:
    currency = str(settings_store.get_setting(MAX_AMOUNT_CURRENCY_KEY, "") or "").upper()
    if not currencies.is_known(currency):
        currency = currencies.default_code() or FALLBACK_CURRENCY
    return Limits(
        max_discount_percent=_decimal(settings_store.get_setting(MAX_DISCOUNT_KEY), DEFAULT_MAX_DISCOUNT),
        max_amount=_decimal(settings_store.get_setting(MAX_AMOUNT_KEY), DEFAULT_MAX_AMOUNT),
        currency=currency,
    )


@transaction.atomic
def approval_limits_set(*, actor: Any, data: dict[str, Any]) -> Limits:
    """Change the limits (``max_discount_percent``, ``max_amount``, ``currency``); every error at once."""
    from kith.sales.cleaning import clean_percent

    if actor is not None:
        require_permission(actor, OPPORTUNITY, ADMINISTER)
    errors: dict[str, list[str]] = {}
    discount = clean_percent(data.get("max_discount_percent"), "max_discount_percent", errors)
    currency = currencies.clean_code(data.get("currency"), "currency", errors)
    amount = currencies.clean_amount(
        data.get("max_amount"), "max_amount", errors, currency=currency if "currency" not in errors else None
    )
    if errors:
        raise ValidationError(errors)
    settings_store.set_setting(MAX_DISCOUNT_KEY, str(discount))
    settings_store.set_setting(MAX_AMOUNT_KEY, str(amount))
    settings_store.set_setting(MAX_AMOUNT_CURRENCY_KEY, currency)
    return approval_limits()


def _plain(number: Decimal) -> str:
    """12.50 as "12.5", 30.00 as "30" (no exponent)."""
    return f"{number.normalize():f}"


# --- rules --------------------------------------------------------------------------------------------
def approval_reasons(*, amount: Decimal, currency: str, discount_percent: Decimal) -> list[str]:
    """Why a deal of ``amount`` ``currency`` with ``discount_percent`` needs an approval (human-readable);
    empty: it needs none."""
    from kith.sales.selectors.pricing import NoExchangeRate, convert

    limits = approval_limits()
    reasons: list[str] = []
    discount = Decimal(discount_percent or 0)
    if discount > limits.max_discount_percent:
        reasons.append(
            _("the discount of %(discount)s%% is above the %(limit)s%% limit")
            % {"discount": _plain(discount), "limit": _plain(limits.max_discount_percent)}
        )
    value = Decimal(amount or 0)
    if value > 0:
        if currency == limits.currency:
            if value > limits.max_amount:
                reasons.append(
                    _("the amount %(amount)s %(currency)s is above the limit of %(limit)s %(currency)s")
                    % {"amount": value, "currency": currency, "limit": limits.max_amount}
                )
        else:
            try:
                converted = convert(value, currency, limits.currency)
            except NoExchangeRate:
                reasons.append(
                    _(
                        "there is no exchange rate from %(currency)s to %(limit_currency)s to check the amount "
                        "against the limit of %(limit)s %(limit_currency)s"
                    )
                    % {"currency": currency, "limit_currency": limits.currency, "limit": limits.max_amount}
                )
            else:
                if converted > limits.max_amount:
                    reasons.append(
                        _(
                            "the amount %(amount)s %(currency)s (%(converted)s %(limit_currency)s) is above the "
                            "limit of %(limit)s %(limit_currency)s"
                        )
                        % {
                            "amount": value,
                            "currency": currency,
                            "converted": converted,
                            "limit_currency": limits.currency,
                            "limit": limits.max_amount,
                        }
                    )
    return reasons


def approval_covering(
    opportunity: Opportunity, *, amount: Decimal, currency: str, discount_percent: Decimal
) -> Approval | None:
    """A granted approval of ``opportunity`` for at least ``amount`` (same currency) and at least
    ``discount_percent``; None when there is none."""
    if not opportunity.pk:
        return None
    return (
        Approval.objects.filter(
            opportunity_id=opportunity.pk,
            status=ApprovalStatus.APPROVED,
            currency=currency,
            amount__gte=Decimal(amount or 0),
            discount_percent__gte=Decimal(discount_percent or 0),
        )
        .order_by("-decided_at", "-id")
        .first()
    )


def asked_for(opportunity: Opportunity) -> tuple[Decimal, str, Decimal]:
    """(amount, currency, discount %) an approval of the deal must cover: the deal's own, raised to those
    of its quotes in the deal's currency that are still to be sent or answered (a quote's discount is the
    one its sending is weighed by), so a discounted quote can be approved from the deal's page."""
    from kith.sales.choices import QuoteStatus
    from kith.sales.services.quotes import gate_discount

    amount, discount = opportunity.amount, opportunity.discount_percent
    if opportunity.pk is None:  # a deal being created has no quotes yet
        return amount, opportunity.currency, discount
    quotes = opportunity.quotes.filter(
        status__in=[QuoteStatus.DRAFT, QuoteStatus.SENT], currency=opportunity.currency
    )
    for quote in quotes:
        amount = max(amount, quote.total)
        discount = max(discount, gate_discount(quote))
    return amount, opportunity.currency, discount


def needs_approval(opportunity: Opportunity) -> list[str]:
    """The reasons ``opportunity`` as it stands (its open quotes included) needs an approval not granted
    yet (empty: none needed or one granted)."""
    amount, currency, discount = asked_for(opportunity)
    reasons = approval_reasons(amount=amount, currency=currency, discount_percent=discount)
    if reasons and approval_covering(
        opportunity, amount=amount, currency=currency, discount_percent=discount
    ):
        return []
    return reasons


def supersede_outdated(opportunity: Opportunity, *, actor: Any = None) -> int:
    """Approvals (granted or waiting) that no longer cover the deal's amount, currency or discount are
    marked superseded; returns how many."""
    outdated = Approval.objects.filter(
        opportunity_id=opportunity.pk, status__in=[ApprovalStatus.APPROVED, ApprovalStatus.PENDING]
    ).filter(
        ~Q(currency=opportunity.currency)
        | Q(amount__lt=opportunity.amount)
        | Q(discount_percent__lt=opportunity.discount_percent)
    )
    return outdated.update(status=ApprovalStatus.SUPERSEDED, updated_at=timezone.now())


# --- who decides --------------------------------------------------------------------------------------
def is_above(user: Any, member_id: int | None) -> bool:
    if member_id is None:
        return False
    return Reach.objects.filter(manager_id=user.pk, member_id=member_id, depth__gte=1).exists()


def can_decide(user: Any, approval: Approval) -> bool:
    """The approver; when there is none, any holder of (opportunity, approve); a holder of it above the
    owner, or a superuser. Never the person who asked."""
    if not is_signed_in(user) or user.pk == approval.requested_by_id:
        return False
    if approval.approver_id == user.pk or user.is_superuser:
        return True
    if not has_permission(user, OPPORTUNITY, APPROVE):
        return False
    return approval.approver_id is None or is_above(user, approval.opportunity.owner_id)


def approver_for(opportunity: Opportunity) -> User | None:
    owner = opportunity.owner
    manager = owner.manager if owner is not None else None
    if manager is not None and manager.is_active:
        return manager
    return None


def approval_stewards(*, exclude: list[int]) -> list[User]:
    """Active users holding (opportunity, approve) through a role (asked when nobody else is)."""
    from kith.security.access_requests import data_stewards

    return data_stewards(OPPORTUNITY, exclude=exclude)


# --- writes -------------------------------------------------------------------------------------------
def _comment(value: Any, field: str, errors: dict[str, list[str]]) -> str:
    text = str(value or "").strip()
    if len(text) > 500:
        errors.setdefault(field, []).append(_("At most %(n)d characters.") % {"n": 500})
    return text


@transaction.atomic
def approval_request(*, actor: Any, opportunity: Opportunity, comment: str = "") -> Approval:
    """Ask for an approval of the deal as it stands; refused when it needs none, is already approved, or
    one is waiting."""
    if actor is not None:
        require_permission(actor, OPPORTUNITY, EDIT)
    errors: dict[str, list[str]] = {}
    text = _comment(comment, "comment", errors)
    if errors:
        raise ValidationError(errors)
    amount, currency, discount = asked_for(opportunity)
    reasons = approval_reasons(amount=amount, currency=currency, discount_percent=discount)
    if not reasons:
        raise ApprovalRefused(
            _("This deal needs no approval: its amount and discount are within the limits.")
        )
    if approval_covering(opportunity, amount=amount, currency=currency, discount_percent=discount):
        raise ApprovalRefused(_("This deal is already approved as it stands."))
    if Approval.objects.filter(opportunity_id=opportunity.pk, status=ApprovalStatus.PENDING).exists():
        raise ApprovalRefused(_("An approval of this deal is already waiting for a decision."))
    reason_text = "; ".join(reasons)
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                opportunity=opportunity,
                status=ApprovalStatus.PENDING,
                reasons=reason_text[:300],
                amount=amount,
                currency=currency,
                discount_percent=discount,
                requested_by=actor if getattr(actor, "pk", None) else None,
                request_comment=text,
                approver=approver_for(opportunity),
            )
    except IntegrityError as exc:  # a concurrent request won at the one-pending constraint
        raise ApprovalRefused(_("An approval of this deal is already waiting for a decision.")) from exc
    pk = approval.pk
    transaction.on_commit(lambda: send_notice(pk))
    return approval


@transaction.atomic
def approval_decide(*, actor: Any, approval: Approval, approve: bool, comment: str = "") -> Approval:
    """Grant or refuse a waiting approval; a refusal says why."""
    locked = Approval.objects.select_for_update().select_related("opportunity").get(pk=approval.pk)
    if locked.status != ApprovalStatus.PENDING:
        raise AlreadyDecided()
    if not can_decide(actor, locked):
        if getattr(actor, "pk", None) == locked.requested_by_id:
            raise PermissionDenied(_("You cannot decide an approval you asked for."))
        raise PermissionDenied(_("You may not decide this approval."))
    errors: dict[str, list[str]] = {}
    text = _comment(comment, "comment", errors)
    if not approve and not text:
        errors.setdefault("comment", []).append(_("Say why the approval is refused."))
    if errors:
        raise ValidationError(errors)
    locked.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_comment = text
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment", "updated_at"])
    pk = locked.pk
    transaction.on_commit(lambda: send_notice(pk))
    for field in ("status", "decided_by", "decided_at", "decision_comment", "updated_at"):
        setattr(approval, field, getattr(locked, field))
    return locked


@transaction.atomic
def approval_withdraw(*, actor: Any, approval: Approval) -> Approval:
    """The person who asked (or the deal's owner) takes back a waiting request."""
    locked = Approval.objects.select_for_update().select_related("opportunity").get(pk=approval.pk)
    if locked.status != ApprovalStatus.PENDING:
        raise AlreadyDecided()
    if actor is not None and actor.pk not in (locked.requested_by_id, locked.opportunity.owner_id):
        raise PermissionDenied(_("Only the person who asked may withdraw this request."))
    locked.status = ApprovalStatus.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    approval.status = locked.status
    return locked


# --- reads --------------------------------------------------------------------------------------------
def approvals_to_decide(user: Any) -> QuerySet[Approval]:
    """Waiting approvals ``user`` may decide (never their own requests), oldest first."""
    if not is_signed_in(user):
        return Approval.objects.none()
    condition = Q(approver_id=user.pk)
    if user.is_superuser:
        condition = Q()
    elif has_permission(user, OPPORTUNITY, APPROVE):
        below = Reach.objects.filter(manager_id=user.pk, depth__gte=1).values("member_id")
        condition |= Q(approver__isnull=True) | Q(opportunity__owner_id__in=below)
    return (
        Approval.objects.filter(condition, status=ApprovalStatus.PENDING)
        .exclude(requested_by_id=user.pk)
        .select_related("opportunity", "opportunity__customer", "requested_by", "approver")
        .order_by("created_at", "id")
    )


def approvals_requested_by(user: Any) -> QuerySet[Approval]:
    return (
        Approval.objects.filter(requested_by_id=getattr(user, "pk", None))
        .select_related("opportunity", "opportunity__customer", "approver", "decided_by")
        .order_by("-created_at", "-id")
    )


# --- email --------------------------------------------------------------------------------------------
def send_notice(approval_id: int) -> list[str]:
    """Email the approver(s) of a waiting approval, or the requester once it is decided; the addresses."""
    from django.core.mail import send_mail
    from django.utils import translation

    from kith.core.links import absolute

    row = (
        Approval.objects.select_related(
            "opportunity", "opportunity__owner", "requested_by", "approver", "decided_by"
        )
        .filter(pk=approval_id)
        .first()
    )
    if row is None:
        return []
    opportunity = row.opportunity
    link = absolute(reverse("sales:opportunity_detail", args=[opportunity.pk]))
    with translation.override(settings.LANGUAGE_CODE):
        if row.status == ApprovalStatus.PENDING:
            if row.approver is not None:
                people = [row.approver]
            else:
                people = approval_stewards(exclude=[row.requested_by_id] if row.requested_by_id else [])
            recipients = [u.email for u in people if u.email]
            subject = _("Kith: %(user)s asks you to approve the deal %(deal)s") % {
                "user": row.requested_by or _("Kith"),
                "deal": " ".join(opportunity.name.split()),  # a name with a line break: still one header line
            }
            body = _(
                "%(user)s asks you to approve the deal %(deal)s (%(amount)s %(currency)s, discount "
                "%(discount)s%%).\n\nWhy it is needed: %(reasons)s\nComment: %(comment)s\n\n"
                "Approve or reject it at %(link)s\n"
            ) % {
                "user": row.requested_by or _("Kith"),
                "deal": opportunity.name,
                "amount": row.amount,
                "currency": row.currency,
                "discount": row.discount_percent,
                "reasons": row.reasons,
                "comment": row.request_comment or "-",
                "link": link,
            }
        elif row.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
            requester = row.requested_by
            recipients = [requester.email] if requester is not None and requester.email else []
            subject = _("Kith: the approval of %(deal)s was %(status)s") % {
                "deal": opportunity.name,
                "status": row.get_status_display(),
            }
            body = _("%(who)s %(status)s the approval of %(deal)s.\n%(comment)s\n%(link)s\n") % {
                "who": row.decided_by or "",
                "status": row.get_status_display(),
                "deal": opportunity.name,
                "comment": row.decision_comment,
                "link": link,
            }
        else:
            return []
        if recipients:
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            except Exception:  # the decision stands; the mail log says what went wrong
                logger.exception("could not email approval %s", approval_id)
                return []
    return recipients
