"""Writes to customer records: the one door used by the web UI, the API, imports, jobs and demo data."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.audit.capture import add_links
from kith.core import timeline
from kith.core.crypto import with_blind_indexes
from kith.core.errors import ConflictError, DeleteRefused
from kith.core.models import TimelineEntry
from kith.parties.choices import (
    CompanySize,
    CustomerKind,
    CustomerStatus,
    Gender,
    InteractionKind,
    MaritalStatus,
    Source,
)
from kith.parties.models import (
    Address,
    Category,
    Customer,
    CustomFieldDefinition,
    Email,
    PartyRole,
    Phone,
    Tag,
)
from kith.parties.services.access import require, require_change
from kith.parties.services.contact_points import normalise_email, normalise_phone
from kith.parties.services.custom_fields import clean_custom_data
from kith.parties.services.numbering import allocate_customer_numbers
from kith.parties.services.search_index import learn_names
from kith.parties.services.search_keys import name_keys
from kith.parties.services.special_dates import sync_derived_dates, sync_derived_dates_many
from kith.security.masking import check_writable, locked_fields

PERSON_FIELDS = ("family_name", "given_name", "gender", "birth_date", "marital_status", "id_document_number")
COMPANY_FIELDS = (
    "legal_name",
    "short_name",
    "industry",
    "founded_date",
    "registration_number",
    "company_size",
    "annual_revenue",
    "annual_revenue_currency",
)
COMMON_FIELDS = ("display_name", "status", "owner", "source", "channel", "notes")
MASTER_FIELDS = COMMON_FIELDS + PERSON_FIELDS + COMPANY_FIELDS
_CHOICE_FIELDS = {
    "status": CustomerStatus,
    "gender": Gender,
    "marital_status": MaritalStatus,
    "company_size": CompanySize,
    "source": Source,
}


def _as_date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a valid date (YYYY-MM-DD)."))
        return None


def _clean_master(kind: str, data: dict[str, Any], *, base: Customer | None) -> dict[str, Any]:
    """Validate master-data fields; return the values to set. Raises one ValidationError with every problem."""
    errors: dict[str, list[str]] = {}
    allowed = set(COMMON_FIELDS) | set(PERSON_FIELDS if kind == CustomerKind.PERSON else COMPANY_FIELDS)
    unknown = set(data) - set(MASTER_FIELDS)
    for field in sorted(unknown):
        errors[field] = [_("Unknown field.")]
    wrong_kind = (set(data) & set(MASTER_FIELDS)) - allowed
    for field in sorted(wrong_kind):
        if data[field] not in (None, ""):
            errors[field] = [_("This field does not apply to this kind of customer.")]
    values: dict[str, Any] = {}
    for field in allowed & set(data):
        value = data[field]
        if isinstance(value, str) and field not in ("notes",):
            value = value.strip()
        if field in ("birth_date", "founded_date"):
            value = _as_date(value, field, errors)
            if value and value > timezone.localdate():
                errors.setdefault(field, []).append(_("This date is in the future."))
            if value and value.year < 1800:
                errors.setdefault(field, []).append(_("This date is too far in the past."))
        elif field == "annual_revenue":
            if value in (None, ""):
                value = None
            else:
                try:
                    value = Decimal(str(value))
                    if not value.is_finite() or value < 0:
                        raise InvalidOperation
                    if value != value.quantize(Decimal("0.01")):
                        errors.setdefault(field, []).append(_("At most two decimal places."))
                    if abs(value) >= Decimal("1e16"):
                        errors.setdefault(field, []).append(_("This amount is too large."))
                except InvalidOperation:
                    errors.setdefault(field, []).append(_("Enter a positive amount."))
        elif field == "annual_revenue_currency":
            value = (value or "").upper()
            if value and (len(value) != 3 or not value.isalpha()):
                errors.setdefault(field, []).append(_("Use a three-letter currency code such as EUR or CNY."))
        elif field in _CHOICE_FIELDS:
            value = value or ""
            if value and value not in _CHOICE_FIELDS[field].values:
                errors.setdefault(field, []).append(
                    _("“%(value)s” is not a valid choice.") % {"value": value}
                )
            if field == "status" and not value:
                value = CustomerStatus.PROSPECT
        elif field == "owner":
            value = _owner(value, errors)
        elif value is None:
            value = ""
        if isinstance(value, str):
            limit = getattr(Customer._meta.get_field(field), "max_length", None)
            if limit and len(value) > limit:
                errors.setdefault(field, []).append(
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": limit, "count": len(value)}
                )
        values[field] = value

    merged = {f: getattr(base, f) for f in allowed} if base is not None else {}
    merged.update(values)
    if merged.get("annual_revenue") is not None and not merged.get("annual_revenue_currency"):
        errors.setdefault("annual_revenue_currency", []).append(_("Give the currency of the revenue."))
    if kind == CustomerKind.PERSON:
        if not (merged.get("family_name") or merged.get("given_name") or merged.get("display_name")):
            errors.setdefault("family_name", []).append(_("Give at least a family name or a given name."))
        if not merged.get("display_name"):
            parts = [merged.get("given_name") or "", merged.get("family_name") or ""]
            values["display_name"] = _person_display_name(*parts)
    else:
        if not (merged.get("legal_name") or merged.get("display_name") or merged.get("short_name")):
            errors.setdefault("legal_name", []).append(_("Give the company's legal name."))
        if not merged.get("display_name"):
            values["display_name"] = merged.get("short_name") or merged.get("legal_name") or ""
    for field in ("display_name", "legal_name", "family_name", "given_name", "short_name"):
        if len(str(values.get(field) or "")) > _max_length(field):
            errors.setdefault(field, []).append(_("This text is too long."))
    if errors:
        raise ValidationError(errors)
    return values


def _owner(value: Any, errors: dict[str, list[str]]) -> Any:
    """An owner given as a user or a user id; it must be an active user."""
    if value in (None, ""):
        return None
    user_model = get_user_model()
    user: Any
    if isinstance(value, user_model):
        user = value
    else:
        try:
            user = user_model.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            user = None
    if user is None or not user.is_active:
        errors.setdefault("owner", []).append(_("Choose an active user as account manager."))
        return None
    return user


def _max_length(field: str) -> int:
    return int(getattr(Customer._meta.get_field(field), "max_length", 0) or 0)


def _field_label(field: str) -> str:
    if field == "custom_data":
        return str(_("custom fields"))
    if field in ("phones", "emails", "addresses"):
        return {"phones": _("phones"), "emails": _("emails"), "addresses": _("addresses")}[field]
    return str(getattr(Customer._meta.get_field(field), "verbose_name", field))


def _person_display_name(given: str, family: str) -> str:
    given, family = given.strip(), family.strip()
    if any("\u3400" <= ch <= "\u9fff" for ch in family + given):
        return f"{family}{given}"  # Chinese order, no space: 张三
    return " ".join(p for p in (given, family) if p)


def _clean_contact_points(
    phones: Sequence[dict[str, Any]] | None,
    emails: Sequence[dict[str, Any]] | None,
    addresses: Sequence[dict[str, Any]] | None,
) -> tuple[list[Phone] | None, list[Email] | None, list[Address] | None]:
    errors: dict[str, list[str]] = {}
    phone_rows: list[Phone] | None = None
    if phones is not None:
        phone_rows = []
        seen: set[str] = set()
        for i, item in enumerate(phones):
            try:
                e164, national = normalise_phone(str(item.get("number", "")), region=item.get("region"))
            except ValidationError as exc:
                errors[f"phones.{i}.number"] = list(exc.messages)
                continue
            if e164 in seen:
                errors[f"phones.{i}.number"] = [_("This number is listed twice.")]
                continue
            seen.add(e164)
            phone_rows.append(
                Phone(
                    label=item.get("label") or "mobile",
                    number=e164,
                    national_number=national,
                    extension=str(item.get("extension") or "")[:10],
                    is_primary=bool(item.get("is_primary")),
                )
            )
    email_rows: list[Email] | None = None
    if emails is not None:
        email_rows = []
        keys: set[str] = set()
        for i, item in enumerate(emails):
            try:
                address, key = normalise_email(str(item.get("address", "")))
            except ValidationError as exc:
                errors[f"emails.{i}.address"] = list(exc.messages)
                continue
            if key in keys:
                errors[f"emails.{i}.address"] = [_("This address is listed twice.")]
                continue
            keys.add(key)
            email_rows.append(
                Email(
                    label=item.get("label") or "work",
                    address=address,
                    address_key=key,
                    is_primary=bool(item.get("is_primary")),
                )
            )
    address_rows: list[Address] | None = None
    if addresses is not None:
        address_rows = []
        for i, item in enumerate(addresses):
            line1 = str(item.get("line1") or "").strip()
            if not line1:
                errors[f"addresses.{i}.line1"] = [_("Give the street and number.")]
                continue
            country = str(item.get("country") or "").strip().upper()
            if country and (len(country) != 2 or not country.isalpha()):
                errors[f"addresses.{i}.country"] = [_("Use a two-letter country code such as CN or DE.")]
                continue
            address_rows.append(
                Address(
                    label=item.get("label") or "office",
                    line1=line1[:200],
                    line2=str(item.get("line2") or "")[:200],
                    postal_code=str(item.get("postal_code") or "")[:20],
                    city=str(item.get("city") or "")[:100],
                    region=str(item.get("region") or "")[:100],
                    country=country,
                    is_primary=bool(item.get("is_primary")),
                )
            )
    if errors:
        raise ValidationError(errors)
    for rows in (phone_rows, email_rows, address_rows):
        if rows and not any(r.is_primary for r in rows):
            rows[0].is_primary = True
    return phone_rows, email_rows, address_rows


_CONTACT_KEYS: dict[type, tuple[str, ...]] = {
    Phone: ("label", "number", "extension", "is_primary"),
    Email: ("label", "address", "is_primary"),
    Address: ("label", "line1", "line2", "postal_code", "city", "region", "country", "is_primary"),
}


def _replace_children(
    customer: Customer,
    phones: list[Phone] | None,
    emails: list[Email] | None,
    addresses: list[Address] | None,
    *,
    new: bool = False,
) -> list[str]:
    """Replace the given contact-point lists; return the names of those that really changed.

    ``new``: the customer was just created, so there is nothing to compare with or remove."""
    changed: list[str] = []
    groups: list[tuple[str, Any, list[Any] | None]] = [
        ("phones", Phone, phones),
        ("emails", Email, emails),
        ("addresses", Address, addresses),
    ]
    for name, model, rows in groups:
        if rows is None:
            continue
        if new:
            if not rows:
                continue
        else:
            keys = _CONTACT_KEYS[model]
            current = [
                tuple(values)
                for values in model.objects.filter(customer=customer).order_by("id").values_list(*keys)
            ]
            if current == [tuple(getattr(r, k) for k in keys) for r in rows]:
                continue
            model.objects.filter(customer=customer).delete()
        for row in rows:
            row.customer = customer
        model.objects.bulk_create(rows)
        changed.append(name)
    return changed


@dataclass
class _Classification:
    categories: list[Category] | None = None
    tags: list[str] | None = None
    roles: list[PartyRole] | None = None


def _clean_classification(
    *,
    category_ids: Iterable[int] | None,
    tag_names: Iterable[str] | None,
    role_ids: Iterable[int] | None,
) -> _Classification:
    """Resolve and check categories, tags and roles before anything is written."""
    errors: dict[str, list[str]] = {}
    result = _Classification()
    if category_ids is not None:
        try:
            ids = {int(i) for i in category_ids}
        except (TypeError, ValueError):
            ids = set()
            errors["categories"] = [_("Some categories do not exist.")]
        categories = list(Category.objects.filter(pk__in=ids).select_related("tree"))
        if len(categories) != len(ids):
            errors["categories"] = [_("Some categories do not exist.")]
        per_tree: dict[int, int] = {}
        for cat in categories:
            per_tree[cat.tree_id] = per_tree.get(cat.tree_id, 0) + 1
            if not cat.tree.allow_multiple and per_tree[cat.tree_id] > 1:
                errors["categories"] = [
                    _("Only one category of “%(tree)s” may be chosen.") % {"tree": cat.tree.name}
                ]
        result.categories = categories
    if role_ids is not None:
        try:
            role_set = {int(i) for i in role_ids}
        except (TypeError, ValueError):
            role_set = set()
            errors["roles"] = [_("Some roles do not exist.")]
        roles = list(PartyRole.objects.filter(pk__in=role_set))
        if len(roles) != len(role_set):
            errors["roles"] = [_("Some roles do not exist.")]
        result.roles = roles
    if tag_names is not None:
        unique: dict[str, str] = {}
        for raw in tag_names:
            name = str(raw or "").strip()
            if not name:
                continue
            if len(name) > 60:
                errors["tags"] = [_("A tag is at most 60 characters.")]
            unique.setdefault(name.casefold(), name)  # the first spelling given wins
        result.tags = list(unique.values())
    if errors:
        raise ValidationError(errors)
    return result


def _apply_classification(customer: Customer, chosen: _Classification) -> None:
    if chosen.categories is not None:
        customer.categories.set(chosen.categories)
    if chosen.roles is not None:
        customer.roles.set(chosen.roles)
    if chosen.tags is not None:
        tags = _tags_named(chosen.tags)
        customer.tags.set([tags[n.casefold()] for n in chosen.tags])


def _tags_named(names: Iterable[str]) -> dict[str, Tag]:
    """The tags of these names by case-folded name, created where none exists yet."""
    wanted = {n.casefold(): n for n in names}
    tags = {t.name_key: t for t in Tag.objects.filter(name_key__in=list(wanted))}
    for key, name in wanted.items():
        if key not in tags:
            tags[key] = Tag.objects.create(name=name)
    return tags


def _apply_search_keys(customer: Customer) -> None:
    names = (
        " ".join(p for p in (customer.display_name, customer.legal_name, customer.short_name) if p)
        if customer.is_company
        else customer.display_name
    )
    customer.search_name, customer.search_pinyin, customer.search_initials = name_keys(names)


@dataclass
class NewCustomer:
    """One customer to create, as ``customer_create`` takes it."""

    kind: str
    data: dict[str, Any]
    phones: Sequence[dict[str, Any]] = ()
    emails: Sequence[dict[str, Any]] = ()
    addresses: Sequence[dict[str, Any]] = ()
    custom: dict[str, Any] | None = None
    category_ids: Iterable[int] | None = None
    tag_names: Iterable[str] | None = None
    role_ids: Iterable[int] | None = None


@dataclass
class PreparedCustomer:
    """A checked customer not yet written (no number yet): what ``customers_create`` writes."""

    customer: Customer
    phones: list[Phone]
    emails: list[Email]
    addresses: list[Address]
    classification: _Classification


def customer_prepare(
    *, actor: Any, item: NewCustomer, definitions: dict[str, list[CustomFieldDefinition]] | None = None
) -> PreparedCustomer:
    """Every check of a new customer, nothing written: a ValidationError keyed by field, or the rows.
    ``definitions``: the active custom field definitions per kind, read once by a caller preparing many."""
    require(actor, "customer", "create")
    kind, data = item.kind, item.data
    if kind not in CustomerKind.values:
        raise ValidationError({"kind": [_("Choose person or company.")]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for step in (
        lambda: values.update(_clean_master(kind, data, base=None)),
        lambda: values.update(
            custom_data=clean_custom_data(
                kind=kind, values=item.custom or {}, definitions=(definitions or {}).get(kind)
            )
        ),
    ):
        try:
            step()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        phone_rows, email_rows, address_rows = _clean_contact_points(item.phones, item.emails, item.addresses)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        chosen = _clean_classification(
            category_ids=item.category_ids, tag_names=item.tag_names, role_ids=item.role_ids
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    given = [f for f in data if f in values and values[f] not in (None, "")]
    given += [f"custom.{k}" for k, v in (values.get("custom_data") or {}).items() if v not in (None, "", [])]
    given += [
        n for n, rows in (("phones", phone_rows), ("emails", email_rows), ("addresses", address_rows)) if rows
    ]
    check_writable(actor, "customer", given)
    if values.get("owner") is None and getattr(actor, "pk", None):
        values["owner"] = actor
    customer = Customer(kind=kind, created_by=_user(actor), **values)
    _apply_search_keys(customer)
    return PreparedCustomer(customer, phone_rows or [], email_rows or [], address_rows or [], chosen)


@transaction.atomic
def customers_create(*, prepared: Sequence[PreparedCustomer]) -> list[Customer]:
    """Write customers checked by ``customer_prepare``: one block of numbers and one insert per table for
    all of them (an import writes its batches so); each customer is audited as if created alone."""
    if not prepared:
        return []
    for item, number in zip(prepared, allocate_customer_numbers(len(prepared)), strict=True):
        item.customer.customer_number = number
    created = Customer.objects.bulk_create([p.customer for p in prepared])
    for item, customer in zip(prepared, created, strict=True):
        item.customer = customer
    learn_names(*(p.customer.search_name for p in prepared))
    children: list[Any] = []
    for item in prepared:
        row: Any
        for row in (*item.phones, *item.emails, *item.addresses):
            row.customer = item.customer
            children.append(row)
    models: tuple[Any, ...] = (Phone, Email, Address)
    for model in models:
        rows = [row for row in children if type(row) is model]
        if rows:
            model.objects.bulk_create(rows)
    tags = _tags_named(n for p in prepared for n in p.classification.tags or ())
    add_links("categories", {p.customer: p.classification.categories or [] for p in prepared})
    add_links("roles", {p.customer: p.classification.roles or [] for p in prepared})
    add_links(
        "tags", {p.customer: [tags[n.casefold()] for n in p.classification.tags or ()] for p in prepared}
    )
    sync_derived_dates_many([p.customer for p in prepared])
    return [p.customer for p in prepared]


def customer_create(
    *,
    actor: Any,
    kind: str,
    data: dict[str, Any],
    phones: Sequence[dict[str, Any]] = (),
    emails: Sequence[dict[str, Any]] = (),
    addresses: Sequence[dict[str, Any]] = (),
    custom: dict[str, Any] | None = None,
    category_ids: Iterable[int] | None = None,
    tag_names: Iterable[str] | None = None,
    role_ids: Iterable[int] | None = None,
) -> Customer:
    item = NewCustomer(kind, data, phones, emails, addresses, custom, category_ids, tag_names, role_ids)
    return customers_create(prepared=[customer_prepare(actor=actor, item=item)])[0]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _changed_custom(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    if after is None:
        return []
    before = before or {}
    return [f"custom.{k}" for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]


def _changed_lists(customer: Customer, locked: set[str], **lists: list[Any] | None) -> list[str]:
    """The contact lists given that differ from the stored ones, among those ``locked`` for the actor
    (only those need the comparison: the field-rule check refuses them)."""
    changed = []
    for name, rows in lists.items():
        if rows is None or name not in locked:
            continue
        model = {"phones": Phone, "emails": Email, "addresses": Address}[name]
        keys = _CONTACT_KEYS[model]
        current = [tuple(v) for v in getattr(customer, name).all().values_list(*keys)] if customer.pk else []
        if sorted(current, key=repr) != sorted((tuple(getattr(r, k) for k in keys) for r in rows), key=repr):
            changed.append(name)
    return changed


@transaction.atomic
def customer_update(
    *,
    actor: Any,
    customer: Customer,
    expected_version: int | None,
    data: dict[str, Any] | None = None,
    phones: Sequence[dict[str, Any]] | None = None,
    emails: Sequence[dict[str, Any]] | None = None,
    addresses: Sequence[dict[str, Any]] | None = None,
    custom: dict[str, Any] | None = None,
    category_ids: Iterable[int] | None = None,
    tag_names: Iterable[str] | None = None,
    role_ids: Iterable[int] | None = None,
    note_change: bool = True,
) -> Customer:
    """Change master data. ``expected_version`` is the version the user loaded; a mismatch is a conflict.

    ``None`` for a collection means "leave as is"; a list replaces it.
    """
    require_change(actor, customer)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    try:
        values = _clean_master(customer.kind, data or {}, base=customer)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if custom is not None:
        try:
            values["custom_data"] = clean_custom_data(
                kind=customer.kind, values=custom, existing=customer.custom_data, partial=True
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        phone_rows, email_rows, address_rows = _clean_contact_points(phones, emails, addresses)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        chosen = _clean_classification(category_ids=category_ids, tag_names=tag_names, role_ids=role_ids)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    version = customer.version if expected_version is None else int(expected_version)
    changed = [f for f, v in values.items() if getattr(customer, f) != v]
    check_writable(
        actor,
        "customer",
        [f for f in changed if f != "custom_data"]
        + _changed_custom(customer.custom_data, values.get("custom_data"))
        + _changed_lists(
            customer,
            locked_fields(actor, "customer", customer),
            phones=phone_rows,
            emails=email_rows,
            addresses=address_rows,
        ),
        record=customer,
    )
    # Work on a copy so that a conflict leaves the caller's object as it was.
    draft = copy.copy(customer)
    for field, value in values.items():
        setattr(draft, field, value)
    _apply_search_keys(draft)
    now = timezone.now()
    update_fields = {f: getattr(draft, f) for f in values}
    update_fields.update(
        search_name=draft.search_name,
        search_pinyin=draft.search_pinyin,
        search_initials=draft.search_initials,
        updated_at=now,
        version=F("version") + 1,
    )
    update_fields = with_blind_indexes(Customer, update_fields)
    draft.id_document_index = update_fields.get("id_document_index", draft.id_document_index)
    updated = Customer.objects.filter(pk=customer.pk, version=version).update(**update_fields)
    if not updated:
        raise ConflictError()
    if draft.search_name != customer.search_name:
        learn_names(draft.search_name)
    for field in (*values, "search_name", "search_pinyin", "search_initials", "id_document_index"):
        setattr(customer, field, getattr(draft, field))
    customer.version = version + 1
    customer.updated_at = now
    changed += _replace_children(customer, phone_rows, email_rows, address_rows)
    _apply_classification(customer, chosen)
    sync_derived_dates(customer)
    if note_change and changed:
        labels = sorted({_field_label(f) for f in changed})
        timeline.publish(
            subject=customer,
            kind=f"parties.{InteractionKind.INFO_CHANGE}",
            occurred_at=now,
            title=_("Master data changed"),
            summary=_("Changed: %(fields)s") % {"fields": ", ".join(labels)},
            actor=_user(actor),
        )
    return customer


@transaction.atomic
def customer_set_status(
    *, actor: Any, customer: Customer, status: str, expected_version: int | None
) -> Customer:
    return customer_update(
        actor=actor, customer=customer, expected_version=expected_version, data={"status": status}
    )


def customer_has_business_records(customer: Customer) -> bool:
    from django.contrib.contenttypes.models import ContentType

    return (
        TimelineEntry.objects.filter(
            subject_type=ContentType.objects.get_for_model(Customer), subject_id=customer.pk
        )
        .exclude(kind=f"parties.{InteractionKind.INFO_CHANGE}")
        .exists()
        or customer.interactions.exists()
    )


@transaction.atomic
def customer_delete(*, actor: Any, customer: Customer) -> None:
    """Hard delete. Ordinary users may delete only records without business records; they archive the rest."""
    require_change(actor, customer, "customer", "delete")
    if customer_has_business_records(customer) and not getattr(actor, "is_superuser", False):
        raise DeleteRefused(
            _("%(name)s has business records (visits, calls, orders ...). Archive the customer instead.")
            % {"name": customer.display_name}
        )
    from django.contrib.contenttypes.models import ContentType

    TimelineEntry.objects.filter(
        subject_type=ContentType.objects.get_for_model(Customer), subject_id=customer.pk
    ).delete()
    customer.interactions.all().delete()
    try:
        customer.delete()
    except IntegrityError as exc:  # pragma: no cover - a module added a PROTECT reference
        raise DeleteRefused(_("Other records still point at this customer.")) from exc
