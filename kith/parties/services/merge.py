"""Merging two customers into one.

The survivor keeps its number and takes, per field, the value the user picked (by default its own, or the
other's where its own is empty). Phones, emails, addresses, tags, categories, roles and custom values are
added to it; every business record of the merged customer (interactions, timeline entries, special dates,
relationships, consents, retention flags, shares, and whatever other app points at customers) moves to the
survivor. The merged customer stays as an archived tombstone pointing at the survivor (``merged_into``),
so its number keeps resolving to the survivor in search, the API and URLs. Everything happens in one
transaction through audited writes, plus one ``merge`` audit event naming both and the fields taken.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.audit.choices import Action
from kith.audit.services import record_event
from kith.core.errors import ConflictError
from kith.core.models import TimelineEntry
from kith.parties.choices import DERIVED_DATE_KINDS, CustomerStatus
from kith.parties.models import (
    Address,
    Customer,
    DuplicateCandidate,
    DuplicateStatus,
    Email,
    Phone,
    Relationship,
    SpecialDate,
)
from kith.parties.services.access import require_change
from kith.parties.services.contact_points import contact_items
from kith.parties.services.customers import COMMON_FIELDS, COMPANY_FIELDS, PERSON_FIELDS, customer_update
from kith.security.masking import locked_fields

SURVIVOR, MERGED = "survivor", "merged"
# handled by the merge itself: contact points are added to the survivor, the rest below
_HANDLED = {Phone, Email, Address, SpecialDate, Relationship}


def merge_fields(kind: str) -> tuple[str, ...]:
    """The master-data fields a merge chooses between, for customers of ``kind``."""
    return COMMON_FIELDS + (PERSON_FIELDS if kind == "person" else COMPANY_FIELDS)


def _value(customer: Customer, field: str) -> Any:
    return customer.owner_id if field == "owner" else getattr(customer, field)


def default_choices(survivor: Customer, merged: Customer) -> dict[str, str]:
    """Per field: the survivor's value, or the merged customer's where the survivor has none."""
    choices = {}
    for field in merge_fields(survivor.kind):
        empty = _value(survivor, field) in (None, "")
        choices[field] = MERGED if empty and _value(merged, field) not in (None, "") else SURVIVOR
    for key, value in (merged.custom_data or {}).items():
        mine = (survivor.custom_data or {}).get(key)
        choices[f"custom.{key}"] = (
            MERGED if mine in (None, "", []) and value not in (None, "", []) else SURVIVOR
        )
    return choices


def _joined(mine: list[dict[str, Any]], theirs: list[dict[str, Any]], key: Any) -> list[dict[str, Any]]:
    seen = {key(item) for item in mine}
    added = [dict(item, is_primary=False) for item in theirs if key(item) not in seen]
    return mine + added


def _move_relationships(survivor: Customer, merged: Customer) -> int:
    moved = 0
    for rel in Relationship.objects.filter(Q(from_customer=merged) | Q(to_customer=merged)):
        start = survivor if rel.from_customer_id == merged.pk else rel.from_customer
        end = survivor if rel.to_customer_id == merged.pk else rel.to_customer
        same = Q(type=rel.type, from_customer=start, to_customer=end)
        if rel.type.is_symmetric:
            same |= Q(type=rel.type, from_customer=end, to_customer=start)
        if start.pk == end.pk or Relationship.objects.filter(same).exclude(pk=rel.pk).exists():
            rel.delete()  # between the two, or the survivor has it already
            continue
        Relationship.objects.filter(pk=rel.pk).update(from_customer=start, to_customer=end)
        moved += 1
    return moved


def _move_generic(survivor: Customer, merged: Customer) -> dict[str, int]:
    """Every other row pointing at the merged customer: foreign keys of any app, the timeline, shares."""
    moved: dict[str, int] = {}
    for relation in Customer._meta.related_objects:
        model: Any = relation.related_model
        if model in _HANDLED or model is Customer or not relation.field.concrete:
            continue
        name = relation.field.name
        rows = model._default_manager.filter(**{name: merged})
        try:  # all at once (one audited UPDATE) ...
            with transaction.atomic():
                count = rows.update(**{name: survivor})
        except IntegrityError:  # ... unless a unique pair clashes: then row by row, keeping the survivor's
            count = 0
            for pk in list(rows.values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        count += model._default_manager.filter(pk=pk).update(**{name: survivor})
                except IntegrityError:
                    model._default_manager.filter(pk=pk).delete()
        if count:
            moved[model._meta.label_lower] = count
    customer_type = ContentType.objects.get_for_model(Customer)
    count = TimelineEntry.objects.filter(subject_type=customer_type, subject_id=merged.pk).update(
        subject_id=survivor.pk
    )
    if count:
        moved["core.timelineentry"] = count
    from kith.security.models import Share

    for share in Share.objects.filter(content_type=customer_type, object_id=merged.pk):
        duplicate = Share.objects.filter(
            content_type=customer_type, object_id=survivor.pk, user=share.user, team=share.team
        ).exists()
        if duplicate:
            share.delete()
        else:
            Share.objects.filter(pk=share.pk).update(object_id=survivor.pk)
            moved["security.share"] = moved.get("security.share", 0) + 1
    return moved


@transaction.atomic
def customer_merge(
    *,
    actor: Any,
    survivor: Customer,
    merged: Customer,
    survivor_version: int | None,
    merged_version: int | None,
    choices: dict[str, str] | None = None,
) -> Customer:
    """Merge ``merged`` into ``survivor`` (see the module). ``choices``: field (``custom.<key>`` for a
    custom field) -> "survivor" or "merged"; missing fields take ``default_choices``. The versions are the
    ones the user saw: a change since is a conflict."""
    if survivor.pk == merged.pk:
        raise ValidationError({"merged": [_("Choose two different customers.")]})
    require_change(actor, survivor)
    require_change(actor, merged, "customer", "delete")
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if survivor.merged_into_id or merged.merged_into_id:
        raise ValidationError({"merged": [_("One of these customers was merged already.")]})
    if survivor.kind != merged.kind:
        raise ValidationError({"merged": [_("A person and a company cannot be merged.")]})
    for customer, expected in ((survivor, survivor_version), (merged, merged_version)):
        if expected is not None and customer.version != int(expected):
            raise ConflictError()
    defaults = default_choices(survivor, merged)
    for field in locked_fields(actor, "customer", survivor):  # a field one may not write keeps its value
        if field in defaults:
            defaults[field] = SURVIVOR
    picked = {**defaults, **(choices or {})}
    bad = [f for f, side in picked.items() if side not in (SURVIVOR, MERGED)]
    if bad:
        raise ValidationError({f: [_("Choose one of the two values.")] for f in bad})
    data = {
        field: _value(merged, field)
        for field in merge_fields(survivor.kind)
        if picked.get(field) == MERGED and _value(merged, field) != _value(survivor, field)
    }
    custom = {
        key: value
        for key, value in (merged.custom_data or {}).items()
        if picked.get(f"custom.{key}") == MERGED and (survivor.custom_data or {}).get(key) != value
    }
    mine, theirs = contact_items(survivor), contact_items(merged)
    # the merged customer's contact points go first: they may not be on two customers at once
    Phone.objects.filter(customer=merged).delete()
    Email.objects.filter(customer=merged).delete()
    Address.objects.filter(customer=merged).delete()
    survivor = customer_update(
        actor=actor,
        customer=survivor,
        expected_version=survivor.version,
        data=data,
        phones=_joined(mine["phones"], theirs["phones"], lambda p: p["number"]),
        emails=_joined(mine["emails"], theirs["emails"], lambda e: str(e["address"]).casefold()),
        addresses=_joined(
            mine["addresses"],
            theirs["addresses"],
            lambda a: (str(a["line1"]).casefold(), str(a["city"]).casefold()),
        ),
        custom=custom or None,
        category_ids=sorted(
            set(survivor.categories.values_list("pk", flat=True))
            | set(merged.categories.values_list("pk", flat=True))
        ),
        tag_names=sorted(
            set(survivor.tags.values_list("name", flat=True))
            | set(merged.tags.values_list("name", flat=True))
        ),
        role_ids=sorted(
            set(survivor.roles.values_list("pk", flat=True)) | set(merged.roles.values_list("pk", flat=True))
        ),
        note_change=False,
    )
    moved: dict[str, int] = {}
    count = merged.interactions.update(customer=survivor)
    if count:
        moved["parties.interaction"] = count
    kept = 0
    for date in SpecialDate.objects.filter(customer=merged).exclude(kind__in=DERIVED_DATE_KINDS):
        if SpecialDate.objects.filter(
            customer=survivor, kind=date.kind, month=date.month, day=date.day
        ).exists():
            date.delete()
        else:
            SpecialDate.objects.filter(pk=date.pk).update(customer=survivor)
            kept += 1
    SpecialDate.objects.filter(customer=merged).delete()  # the derived ones follow master data
    if kept:
        moved["parties.specialdate"] = kept
    count = _move_relationships(survivor, merged)
    if count:
        moved["parties.relationship"] = count
    moved.update(_move_generic(survivor, merged))
    merged.categories.clear()
    merged.tags.clear()
    merged.roles.clear()
    Customer.objects.filter(pk=merged.pk).update(
        merged_into=survivor,
        status=CustomerStatus.ARCHIVED,
        search_name="",  # no longer found by name or ID number: its number leads to the survivor
        search_pinyin="",
        search_initials="",
        id_document_index="",
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    pair = Q(first_id=min(survivor.pk, merged.pk), second_id=max(survivor.pk, merged.pk))
    DuplicateCandidate.objects.filter(pair).update(status=DuplicateStatus.MERGED, decided_by=actor)
    DuplicateCandidate.objects.filter(Q(first_id=merged.pk) | Q(second_id=merged.pk)).exclude(pair).delete()
    record_event(
        Action.MERGE,
        obj=survivor,
        customer_id=survivor.pk,
        details={
            "merged": merged.customer_number,
            "survivor": survivor.customer_number,
            "taken_from_merged": sorted([*data, *(f"custom.{k}" for k in custom)]),
            "moved": moved,
        },
        actor=actor,
    )
    from kith.core import timeline

    timeline.publish(
        subject=survivor,
        kind="parties.info_change",
        occurred_at=timezone.now(),
        title=_("Merged with %(number)s") % {"number": merged.customer_number},
        summary=_("%(name)s (%(number)s) was merged into this customer.")
        % {"name": merged.display_name, "number": merged.customer_number},
        actor=actor if getattr(actor, "pk", None) else None,
    )
    survivor.refresh_from_db()
    return survivor


def survivor_id(pk: int, merged_into_id: int | None) -> int:
    """The id of the customer a (possibly merged) customer stands for now: merges may chain."""
    seen = {pk}
    while merged_into_id and merged_into_id not in seen:
        pk = merged_into_id
        seen.add(pk)
        merged_into_id = Customer.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
    return pk
