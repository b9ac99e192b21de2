"""Every change to leads: create (by hand, the API, a web form, an import), update (optimistic locking),
delete, the status steps (contacted, qualified, not qualified), reassignment, and conversion into a
customer (an existing one when it is a duplicate) and an opportunity in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError, DomainError
from kith.parties.choices import CustomerKind, CustomerStatus, Source
from kith.parties.models import Category, Customer
from kith.parties.services.contact_points import normalise_email, normalise_phone
from kith.sales import currencies
from kith.sales.choices import LEAD, LEAD_ALREADY_CONVERTED, LeadSource, LeadStatus
from kith.sales.models import Lead, WebForm
from kith.sales.services.assignment import assign_new_lead
from kith.security.masking import check_writable
from kith.security.rules import CREATE, DELETE, EDIT, require_permission
from kith.security.selectors import visible_q

_TEXT = {
    "given_name": 100,
    "family_name": 100,
    "company": 200,
    "title": 100,
    "territory": 50,
    "description": 10000,
}
FIELDS = (
    "given_name",
    "family_name",
    "company",
    "title",
    "email",
    "phone",
    "territory",
    "category",
    "source",
    "description",
    "estimated_value",
    "currency",
    "owner",
)
# what a converted lead still lets change
AFTER_CONVERSION = frozenset({"description"})
# the customer source a lead source becomes
_CUSTOMER_SOURCE = {
    LeadSource.WEB_FORM: Source.WEB,
    LeadSource.REFERRAL: Source.REFERRAL,
    LeadSource.EVENT: Source.TRADE_SHOW,
    LeadSource.PHONE: Source.PHONE,
    LeadSource.IMPORT: Source.IMPORT,
    LeadSource.OTHER: Source.OTHER,
}


class LeadConverted(DomainError):
    code = LEAD_ALREADY_CONVERTED
    status = 409

    def default_message(self) -> str:
        return _("This lead is already converted: only its notes can change.")


def _require(actor: Any, action: str) -> None:
    if actor is not None:
        require_permission(actor, LEAD, action)


def _require_write(actor: Any, lead: Lead, action: str) -> None:
    """The role permission and the lead within the actor's write reach (owner hierarchy, shares)."""
    if actor is None:
        return
    require_permission(actor, LEAD, action)
    if not Lead.objects.filter(visible_q(actor, LEAD, write=True), pk=lead.pk).exists():
        raise PermissionDenied


def active_user(value: Any, field: str, errors: dict[str, list[str]]) -> Any:
    """A user given as a user or an id; it must be an active user."""
    if value in (None, ""):
        return None
    user_model = get_user_model()
    pk = getattr(value, "pk", value)
    user = user_model.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if user is None or not user.is_active:
        errors.setdefault(field, []).append(_("Choose an active user."))
        return None
    return user


def _category(value: Any, errors: dict[str, list[str]]) -> Category | None:
    if value in (None, ""):
        return None
    if isinstance(value, Category):
        return value
    found = Category.objects.filter(pk=int(value)).first() if str(value).isdigit() else None
    if found is None:
        errors.setdefault("category", []).append(_("There is no such category."))
    return found


def _clean(data: dict[str, Any], *, base: Lead | None) -> dict[str, Any]:
    """Validated values of the fields ``data`` names (all of them when creating); every error at once."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    unknown = sorted(set(data) - set(FIELDS))
    for field in unknown:
        errors[field] = [_("Unknown field.")]
    wanted = [f for f in FIELDS if base is None or f in data]
    for field, limit in _TEXT.items():
        if field in wanted:
            value = str(data.get(field) or "").strip()
            if len(value) > limit:
                errors.setdefault(field, []).append(_("At most %(n)d characters.") % {"n": limit})
            values[field] = value
    if "email" in wanted:
        raw = str(data.get("email") or "").strip()
        values["email"] = ""
        if raw:
            try:
                address, _key = normalise_email(raw)
                values["email"] = address.lower()
            except ValidationError:
                errors.setdefault("email", []).append(_("Enter a valid email address."))
            if len(raw) > 254:
                errors.setdefault("email", []).append(_("At most %(n)d characters.") % {"n": 254})
    if "phone" in wanted:
        raw = str(data.get("phone") or "").strip()
        values["phone"], values["phone_raw"] = "", raw[:40]
        if raw:
            try:
                values["phone"] = normalise_phone(raw)[0]
            except ValidationError as exc:
                errors.setdefault("phone", []).extend(exc.messages)
    if "category" in wanted:
        values["category"] = _category(data.get("category"), errors)
    if "source" in wanted:
        source = str(data.get("source") or LeadSource.MANUAL)
        if source not in LeadSource.values:
            errors.setdefault("source", []).append(
                _("“%(value)s” is not a valid choice.") % {"value": source}
            )
        values["source"] = source
    if "currency" in wanted:
        raw_code = str(data.get("currency") or "").strip()
        values["currency"] = currencies.clean_code(raw_code, "currency", errors) if raw_code else ""
    if "estimated_value" in wanted:
        currency = values.get("currency", base.currency if base else "")
        values["estimated_value"] = currencies.clean_amount(
            data.get("estimated_value"), "estimated_value", errors, currency=currency or None, required=False
        )
        if values["estimated_value"] is not None and not currency:
            errors.setdefault("currency", []).append(_("Give the currency of the estimated value."))
    if "owner" in wanted:
        values["owner"] = active_user(data.get("owner"), "owner", errors)
    merged = (
        {f: getattr(base, f) for f in ("given_name", "family_name", "company", "email", "phone")}
        if base
        else {}
    )
    merged.update(
        {k: v for k, v in values.items() if k in ("given_name", "family_name", "company", "email", "phone")}
    )
    if not any(merged.get(f) for f in merged) and not any(
        f in errors for f in ("given_name", "family_name", "company", "email", "phone")
    ):
        errors.setdefault("family_name", []).append(
            _("Give at least a name, a company, an email address or a phone number.")
        )
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def lead_create(
    *, actor: Any, data: dict[str, Any], web_form: WebForm | None = None, default_source: str = ""
) -> Lead:
    """A new lead. No owner given: the web form's owner, else the assignment rules, else the actor who
    entered it, else (a web form, a command) unassigned. No source given: ``default_source`` (the channel's:
    api), else manual.
    ``actor`` None: the system (a public web form, an import run by a command).
    A field the actor's field rules make hidden or read-only cannot be given (the defaults are no choice)."""
    _require(actor, CREATE)
    given_source = bool(data.get("source"))
    if default_source and not given_source:
        data = {**data, "source": default_source}
    values = _clean(data, base=None)
    blank = Lead(currency=currencies.default_code() or "")  # the defaults a form offers are no choice
    check_writable(
        actor,
        LEAD,
        [
            f
            for f in FIELDS
            if f in values and values[f] != getattr(blank, f) and (f != "source" or given_source)
        ],
    )
    lead = Lead(**values, web_form=web_form, created_by=actor if getattr(actor, "pk", None) else None)
    if web_form is not None:
        lead.source = LeadSource.WEB_FORM
        if lead.category is None:
            lead.category = web_form.category
        if lead.owner is None and web_form.owner is not None and web_form.owner.is_active:
            lead.owner = web_form.owner
    if lead.owner is None:
        lead.owner_id = assign_new_lead(lead)
    if lead.owner_id is None and getattr(actor, "pk", None):
        lead.owner = actor  # no rule for it: whoever entered it keeps it (else they could not see it)
    lead.save()
    return lead


def _versioned_update(lead: Lead, values: dict[str, Any], expected_version: int | None) -> Lead:
    version = lead.version if expected_version is None else int(expected_version)
    now = timezone.now()
    if not Lead.objects.filter(pk=lead.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    ):
        raise ConflictError()
    for field, value in values.items():
        setattr(lead, field, value)
    lead.version, lead.updated_at = version + 1, now
    return lead


@transaction.atomic
def lead_update(*, actor: Any, lead: Lead, data: dict[str, Any], expected_version: int | None = None) -> Lead:
    """Change the fields ``data`` names; a converted lead only its notes (``description``)."""
    _require_write(actor, lead, EDIT)
    if lead.status == LeadStatus.CONVERTED:
        changing = {f for f in data if f in FIELDS and data[f] != _current(lead, f)}
        if changing - AFTER_CONVERSION:
            raise LeadConverted()
    values = _clean(data, base=lead)
    check_writable(actor, LEAD, changed_fields(lead, values), record=lead)
    return _versioned_update(lead, values, expected_version)


def _current(lead: Lead, field: str) -> Any:
    if field in ("owner", "category"):
        return getattr(lead, f"{field}_id")
    return getattr(lead, field)


def changed_fields(lead: Lead, values: dict[str, Any]) -> list[str]:
    """The fields of ``FIELDS`` whose cleaned ``values`` differ from what ``lead`` holds: what a field rule
    or masking must allow (a form sends every field, a locked one unchanged). A phone typed differently
    that normalises to the same number is no change."""
    changed = []
    for field in FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field in ("owner", "category"):
            value = getattr(value, "pk", value)
        if value != _current(lead, field):
            changed.append(field)
    return changed


@transaction.atomic
def lead_delete(*, actor: Any, lead: Lead) -> None:
    _require_write(actor, lead, DELETE)
    lead.delete()


@transaction.atomic
def lead_assign(*, actor: Any, lead: Lead, owner: Any, expected_version: int | None = None) -> Lead:
    """Give the lead to another (active) user by hand."""
    _require_write(actor, lead, EDIT)
    errors: dict[str, list[str]] = {}
    user = active_user(owner, "owner", errors)
    if user is None and not errors:
        errors["owner"] = [_("Choose an active user.")]
    if errors:
        raise ValidationError(errors)
    if lead.status == LeadStatus.CONVERTED:
        raise LeadConverted()
    if user.pk != lead.owner_id:
        check_writable(actor, LEAD, ["owner"], record=lead)
    return _versioned_update(lead, {"owner": user}, expected_version)


def _set_status(actor: Any, lead: Lead, status: str, expected_version: int | None, **extra: Any) -> Lead:
    _require_write(actor, lead, EDIT)
    if lead.status == LeadStatus.CONVERTED:
        raise LeadConverted()
    return _versioned_update(lead, {"status": status, **extra}, expected_version)


@transaction.atomic
def lead_mark_contacted(*, actor: Any, lead: Lead, expected_version: int | None = None) -> Lead:
    return _set_status(actor, lead, LeadStatus.CONTACTED, expected_version)


@transaction.atomic
def lead_qualify(*, actor: Any, lead: Lead, expected_version: int | None = None) -> Lead:
    return _set_status(actor, lead, LeadStatus.QUALIFIED, expected_version, disqualified_reason="")


@transaction.atomic
def lead_disqualify(*, actor: Any, lead: Lead, reason: str, expected_version: int | None = None) -> Lead:
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the lead is not qualified.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("At most %(n)d characters.") % {"n": 300}]})
    return _set_status(actor, lead, LeadStatus.UNQUALIFIED, expected_version, disqualified_reason=reason)


# --- conversion -----------------------------------------------------------------------------------


@dataclass
class Conversion:
    lead: Lead
    customer: Customer
    customer_created: bool
    opportunity: Any


def new_customer_kind(lead: Lead) -> str:
    """A person when the lead names one, else a company (only a company name known)."""
    if lead.given_name or lead.family_name or not lead.company:
        return CustomerKind.PERSON
    return CustomerKind.COMPANY


def _customer_from_lead(actor: Any, lead: Lead) -> Customer:
    from kith.parties.services.customers import customer_create

    kind = new_customer_kind(lead)
    notes = [lead.description] if lead.description else []
    data: dict[str, Any] = {
        "status": CustomerStatus.PROSPECT,
        "owner": lead.owner,
        "source": _CUSTOMER_SOURCE.get(LeadSource(lead.source), Source.UNSPECIFIED)
        if lead.source in LeadSource.values
        else "",
    }
    if kind == CustomerKind.PERSON:
        data["given_name"] = lead.given_name
        data["family_name"] = lead.family_name
        if not (lead.given_name or lead.family_name):  # only an email or a phone is known
            data["display_name"] = lead.email or lead.phone
        if lead.company or lead.title:
            # no employment link: relationship types are an admin's vocabulary (none is built in)
            notes.insert(
                0,
                _("Company: %(company)s; job title: %(title)s")
                % {"company": lead.company or "—", "title": lead.title or "—"},
            )
    else:
        data["legal_name"] = lead.company
    data["notes"] = "\n\n".join(notes)
    try:
        return customer_create(
            actor=actor,
            kind=kind,
            data=data,
            phones=[{"number": lead.phone, "label": "mobile", "is_primary": True}] if lead.phone else [],
            emails=[{"address": lead.email, "label": "work", "is_primary": True}] if lead.email else [],
            category_ids=[lead.category_id] if lead.category_id else None,
        )
    except ValidationError as exc:
        # the customer's fields are the lead's: say so on the lead's form
        raise ValidationError(
            {
                "customer": [
                    _("The customer could not be created from this lead: %(problems)s")
                    % {"problems": "; ".join(exc.messages)}
                ]
            }
        ) from exc


@transaction.atomic
def lead_convert(
    *,
    actor: Any,
    lead: Lead,
    customer: Customer | None = None,
    create_opportunity: bool = True,
    opportunity_data: dict[str, Any] | None = None,
) -> Conversion:
    """Convert ``lead`` into ``customer`` (an existing customer the user chose among the duplicate
    candidates) or a new customer made from the lead, and, unless told not to, an opportunity of that
    customer. All or nothing; the lead row is locked first, so a second conversion at the same time waits
    and is then refused (one customer, never two)."""
    _require_write(actor, lead, EDIT)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.status == LeadStatus.CONVERTED:
        raise LeadConverted(_("This lead is already converted."))
    created = customer is None
    if customer is None:
        customer = _customer_from_lead(actor, locked)
    else:
        from kith.parties.selectors.customers import customers_for

        if actor is not None and not customers_for(actor, write=True).filter(pk=customer.pk).exists():
            raise ValidationError({"customer": [_("Choose a customer you may change.")]})
        if customer.status == CustomerStatus.ARCHIVED:
            raise ValidationError({"customer": [_("This customer is archived: restore it first.")]})
    opportunity = None
    if create_opportunity:
        from kith.sales.services.opportunities import opportunity_create

        data: dict[str, Any] = {
            "name": str(locked) if not locked.company else locked.company,
            "amount": locked.estimated_value,
            "currency": locked.currency,
            "owner": locked.owner,
            "description": locked.description,
        }
        data.update(opportunity_data or {})
        data["customer"] = customer
        data["lead"] = locked
        try:
            opportunity = opportunity_create(actor=actor, data=data)
        except ValidationError as exc:
            raise ValidationError(
                {
                    f"opportunity.{k}" if k != "__all__" else "opportunity": v
                    for k, v in exc.message_dict.items()
                }
            ) from exc
    now = timezone.now()
    values = {
        "status": LeadStatus.CONVERTED,
        "converted_customer": customer,
        "converted_opportunity": opportunity,
        "converted_at": now,
    }
    _versioned_update(locked, values, None)
    for field, value in values.items():
        setattr(lead, field, value)
    lead.version, lead.updated_at = locked.version, locked.updated_at
    return Conversion(lead=lead, customer=customer, customer_created=created, opportunity=opportunity)
