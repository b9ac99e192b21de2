"""What of a customer is sensitive, which fields field rules may name, and how access requests find a
customer: the parties side of ``kith.security.masking`` and ``access_requests`` (wired in ``apps.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kith.parties.choices import CustomerKind, CustomFieldType, KindScope
from kith.security import access_requests, masking

CUSTOMER = "customer"
PERSON = (CustomerKind.PERSON.value,)


def _custom_sensitive() -> Iterable[masking.SensitiveField]:
    from kith.parties.models import CustomFieldDefinition

    for key, label, applies_to, field_type in CustomFieldDefinition.objects.filter(
        is_sensitive=True
    ).values_list("key", "label", "applies_to", "field_type"):
        yield masking.SensitiveField(
            CUSTOMER,
            f"{masking.CUSTOM_PREFIX}{key}",
            masking.DATE if field_type == CustomFieldType.DATE else masking.TEXT,
            label,
            () if applies_to == KindScope.ANY else (applies_to,),
        )


def sensitive_custom_keys() -> frozenset[str]:
    """The keys of the custom fields marked sensitive, whose values ``Customer.custom_data`` keeps
    encrypted; read at each write, cached per security generation (marking a field moves it on)."""
    from django.core.cache import cache

    from kith.parties.models import CustomFieldDefinition
    from kith.security.selectors import current_generation

    key = f"kith.parties.sealed_custom_keys:{current_generation()}"
    found = cache.get(key)
    if found is None:
        found = frozenset(
            CustomFieldDefinition.objects.filter(is_sensitive=True).values_list("key", flat=True)
        )
        cache.set(key, found, 3600)
    return found  # type: ignore[no-any-return]


def customer_fields() -> list[tuple[str, str]]:
    """Every customer field a field rule may name: master data, contact lists, custom fields."""
    from kith.parties.models import Customer, CustomFieldDefinition
    from kith.parties.services.customers import MASTER_FIELDS

    rows = [
        (name, str(getattr(Customer._meta.get_field(name), "verbose_name", name))) for name in MASTER_FIELDS
    ]
    rows += [("phones", str(_("phones"))), ("emails", str(_("emails"))), ("addresses", str(_("addresses")))]
    rows += [
        (f"{masking.CUSTOM_PREFIX}{key}", f"{label} ({_('custom field')})")
        for key, label in CustomFieldDefinition.objects.order_by("position", "label").values_list(
            "key", "label"
        )
    ]
    return rows


def _find(user: Any, key: str) -> Any:
    from kith.parties.selectors.customers import customer_by_number

    return customer_by_number(user=user, customer_number=key)


def _kinds(ids: Iterable[int]) -> dict[int, str]:
    from kith.parties.models import Customer

    return dict(Customer.objects.filter(pk__in=list(ids)).values_list("pk", "kind"))


def _custom_field_saving(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    from kith.parties.models import CustomFieldDefinition

    if instance.pk is not None and not raw:
        instance._kith_was_sensitive = (
            CustomFieldDefinition.objects.filter(pk=instance.pk)
            .values_list("is_sensitive", flat=True)
            .first()
        )


def _custom_field_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """Marking a custom field sensitive changes who sees what: move the security generation on. When its
    sensitivity changed (through the services, Django's admin or anything else that saves it), its stored
    values are encrypted or decrypted by a background job once the change commits."""
    from django.db import transaction

    from kith.security.services import changed

    if instance.is_sensitive or not created:
        changed()
    was = getattr(instance, "_kith_was_sensitive", None)
    if (created and instance.is_sensitive) or (was is not None and was != instance.is_sensitive):
        key = instance.key

        def enqueue() -> None:
            from kith.parties.tasks import reseal_custom_field

            reseal_custom_field.enqueue(key)

        transaction.on_commit(enqueue)


def register() -> None:
    from django.db.models.signals import post_delete, post_save, pre_save

    from kith.parties.models import CustomFieldDefinition

    pre_save.connect(
        _custom_field_saving, sender=CustomFieldDefinition, dispatch_uid="kith.parties.sensitive.pre"
    )
    post_save.connect(
        _custom_field_saved, sender=CustomFieldDefinition, dispatch_uid="kith.parties.sensitive"
    )
    post_delete.connect(
        _custom_field_saved, sender=CustomFieldDefinition, dispatch_uid="kith.parties.sensitive.d"
    )
    masking.register_sensitive(
        CUSTOMER,
        "id_document_number",
        kind=masking.ID_NUMBER,
        label=_("ID document number"),
        applies_to=PERSON,
    )
    masking.register_sensitive(
        CUSTOMER, "birth_date", kind=masking.DATE, label=_("birth date"), applies_to=PERSON
    )
    masking.register_sensitive(CUSTOMER, "annual_revenue", kind=masking.AMOUNT, label=_("annual revenue"))
    # personal phones: the phones of persons (a company's switchboard is not personal data)
    masking.register_sensitive(
        CUSTOMER,
        "phones",
        kind=masking.PHONE,
        label=_("personal phones"),
        applies_to=PERSON,
        item_attrs=("number", "national_number"),
    )
    masking.register_sensitive_source(CUSTOMER, _custom_sensitive)
    masking.register_fields(CUSTOMER, customer_fields)
    masking.register_audited("parties.customer", CUSTOMER)
    masking.register_audited(
        "parties.phone", CUSTOMER, {"number": "phones", "national_number": "phones", "__str__": "phones"}
    )
    access_requests.register_records(
        CUSTOMER,
        find=_find,
        kinds=_kinds,
        describe=lambda c: (c.customer_number, c.display_name),
        url=lambda key: reverse("parties:customer_detail", kwargs={"number": key}),
        audit_type="parties.customer",
    )


def redact_anniversaries(user: Any, items: list[Any]) -> list[Any]:
    """Anniversary rows as ``user`` may see them: a birthday whose birth date is masked keeps its day
    but not its year count (the age); one whose birth date is hidden is left out."""
    import dataclasses

    from kith.parties.choices import SpecialDateKind

    birthdays = [a for a in items if a.kind == SpecialDateKind.BIRTHDAY]
    if not birthdays:
        return items
    views = masking.field_views(user, [{"id": a.customer_id, "kind": CustomerKind.PERSON} for a in birthdays])
    out = []
    for item in items:
        if item.kind == SpecialDateKind.BIRTHDAY:
            view = views[item.customer_id]
            if not view.shows("birth_date"):
                continue
            if view.is_masked("birth_date") and item.years is not None:
                item = dataclasses.replace(item, years=None)
        out.append(item)
    return out
