"""Erasure as anonymisation: the identity goes, the business records and statistics stay.

What goes: names (replaced by "Erased customer <number>"), birth date, gender, marital status, ID
document number, notes, channel text; for companies the legal and short name, registration number and
founding date; every phone, email and address; every custom-field value (retired fields included);
special dates; relationships to other customers (they name the person's circle); the free text of
interactions (subject replaced by "[redacted]", content emptied) and the summaries of timeline entries;
the evidence text of consents (every consent still given is withdrawn); the words of the old name in the
search vocabulary when no other customer uses them.

What stays: the customer number, kind, status (set to archived), account manager, source, categories,
tags and roles, industry, company size and revenue; every interaction and timeline entry with its kind,
time, channel, outcome and author, so counts and statistics do not change; the consent history's
purposes, channels, states and times. Modules registered with ``register_subject_data(..., erase=...)``
remove their own personal data at the same time: the sales records follow the rule written in
``kith.privacy.services.sales_erasure`` (leads converted into the customer, or known by the customer's
email addresses or phones and not converted into another customer, lose their identity; orders, invoices
and payments keep their amounts; the titles of the customer's sales timeline entries become the kind and
the record's number).

A person known only as a lead (not a customer) is erased with ``lead_erase``: the same sections that
answer for such a subject (``per_subject``) erase what they hold — the lead and its twins by email or
phone that the erasing user may see and that were converted into no customer, exactly the leads the
erasure page lists — and an ``ErasureRecord`` names the lead.

Irreversible: nothing removed is kept anywhere by this module. An ``ErasureRecord`` (who, when, why)
marks the customer as erased.

The authority to erase is ("privacy", "administer") on a customer the user can see; the parties services
are called as Kith itself (``actor=None``), so a data-protection officer needs no edit rights on the
customer's records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kith.audit import capture
from kith.core import search, timeline
from kith.core.errors import DomainError
from kith.core.models import SearchWord, TimelineEntry
from kith.parties import services as parties
from kith.parties.choices import DERIVED_DATE_KINDS, CustomerStatus
from kith.parties.models import Customer
from kith.parties.selectors.customers import relationships_of
from kith.parties.services.search_index import customer_name_index
from kith.privacy.choices import ErasureVia, FlagState
from kith.privacy.models import ConsentRecord, ErasureRecord, RetentionFlag, RetentionRule
from kith.privacy.selectors.subject import subject_of_customer, subject_of_lead
from kith.privacy.services.consents import withdraw_all
from kith.privacy.services.sales_erasure import neutral_timeline_titles
from kith.privacy.subject_data import Subject, sections
from kith.sales.models import Lead
from kith.security import rules

REASON_MIN, REASON_MAX = 5, 2000


def refuse_changes_to_erased(actor: Any, customer: Customer) -> None:
    """No one edits, reactivates or adds records to an erased customer (the erasure itself runs as Kith)."""
    if ErasureRecord.objects.filter(customer_id=customer.pk).exists():
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(
            _("%(number)s was erased: it can no longer be changed.") % {"number": customer.customer_number}
        )


def erased_label(customer_number: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Erased customer %(number)s") % {"number": customer_number}


def redacted_text() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("[redacted]")


def _clean_reason(reason: str, errors: dict[str, list[str]]) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        errors["reason"] = [_("State why the customer is erased (e.g. the request's reference).")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(limit)d characters.") % {"limit": REASON_MAX}]
    return reason


def customer_erase(*, actor: Any, customer: Customer, reason: str, confirmation: str) -> ErasureRecord:
    """Erase one customer. ``confirmation`` must be the customer number typed again."""
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    errors: dict[str, list[str]] = {}
    reason = _clean_reason(reason, errors)
    if (confirmation or "").strip().casefold() != customer.customer_number.casefold():
        errors["confirmation"] = [
            _("Type the customer number %(number)s to confirm.") % {"number": customer.customer_number}
        ]
    if errors:
        raise ValidationError(errors)
    return anonymise(actor=actor, customer=customer, reason=reason, via=ErasureVia.MANUAL)


def customers_erase(
    *,
    actor: Any,
    customers: Iterable[Customer],
    reason: str,
    confirmation: str,
    rule: RetentionRule | None = None,
) -> list[ErasureRecord]:
    """Erase several customers (from a retention report). ``confirmation`` is their number, typed.

    Each customer is erased in its own transaction, so a long batch does not hold the database."""
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    chosen = list(customers)
    errors: dict[str, list[str]] = {}
    reason = _clean_reason(reason, errors)
    if not chosen:
        errors["customers"] = [_("Select the customers to erase.")]
    elif (confirmation or "").strip() != str(len(chosen)):
        errors["confirmation"] = [
            _("Type %(count)d, the number of customers selected, to confirm.") % {"count": len(chosen)}
        ]
    if errors:
        raise ValidationError(errors)
    via = ErasureVia.RETENTION_REVIEW if rule is not None else ErasureVia.MANUAL
    done = []
    for customer in chosen:
        if ErasureRecord.objects.filter(customer=customer).exists():
            continue
        done.append(anonymise(actor=actor, customer=customer, reason=reason, via=via, rule=rule))
    return done


def _erase_sections(subject: Subject, user: Any) -> dict[str, int]:
    return {
        section.name: section.erase_of(subject, user)
        for section in sections()
        if section.erase is not None and section.applies_to(subject)
    }


def _forget_words(old_search_name: str) -> int:
    """Drop the old name's words from the typo vocabulary unless another customer's name still has them."""
    index = customer_name_index()
    gone = []
    for word in set(search.words(old_search_name)):
        if len(word) < 3:  # too short to check through the index; such words identify no one
            continue
        if not Customer.objects.filter(search.contains_all_q(index, [[word]])).exists():
            gone.append(word)
    if not gone:
        return 0
    deleted, _counts = SearchWord.objects.filter(scope=index.scope, word__in=gone).delete()
    return deleted


@transaction.atomic
def anonymise(
    *,
    actor: Any,
    customer: Customer,
    reason: str,
    via: str,
    rule: RetentionRule | None = None,
) -> ErasureRecord:
    """The erasure itself; callers have checked permission and confirmation (or are the retention job)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if ErasureRecord.objects.filter(customer=customer).exists():
        raise DomainError(_("This customer has already been erased."), code="already_erased")
    user = actor if getattr(actor, "pk", None) else None
    label, redacted = erased_label(customer.customer_number), redacted_text()
    old_search_name = customer.search_name
    # who the person is known as, taken before their emails and phones go (their leads are found by them)
    subject = subject_of_customer(customer)
    summary: dict[str, int] = {}

    # The audit trail records the erasure as the creation of its ErasureRecord (who, when, why, counts);
    # the field-by-field changes it makes are not recorded, or the trail would copy the identity again.
    with capture.suppressed():
        interactions = list(customer.interactions.all())
        for interaction in interactions:
            parties.interaction_update(
                actor=None,
                interaction=interaction,
                expected_version=None,
                data={"subject": redacted, "content": ""},
            )
        summary["interactions_redacted"] = len(interactions)

        links = relationships_of(customer)
        for link in links:
            parties.relationship_remove(actor=None, relationship=link.relationship)
        summary["relationships"] = len(links)

        dates = [d for d in customer.special_dates.all() if d.kind not in DERIVED_DATE_KINDS]
        for special in dates:
            parties.special_date_remove(actor=None, special_date=special)

        summary["phones"] = customer.phones.count()
        summary["emails"] = customer.emails.count()
        summary["addresses"] = customer.addresses.count()
        summary["custom_fields"] = len(customer.custom_data or {})
        summary["special_dates"] = customer.special_dates.count()
        if customer.is_person:
            data: dict[str, Any] = {
                "display_name": label,
                "family_name": "",
                "given_name": "",
                "gender": "",
                "birth_date": None,
                "marital_status": "",
                "id_document_number": "",
            }
        else:
            data = {
                "display_name": label,
                "legal_name": label,
                "short_name": "",
                "founded_date": None,
                "registration_number": "",
            }
        data.update(notes="", channel="", status=CustomerStatus.ARCHIVED)
        parties.customer_update(
            actor=None,
            customer=customer,
            expected_version=None,
            data=data,
            phones=[],
            emails=[],
            addresses=[],
            note_change=False,
        )
        # The parties services keep values of retired custom fields on purpose; erasure removes them all.
        Customer.objects.filter(pk=customer.pk).update(
            custom_data={}, version=F("version") + 1, updated_at=timezone.now()
        )

        summary["consents_withdrawn"] = withdraw_all(actor=user, customer=customer, evidence=redacted)
        ConsentRecord.objects.filter(customer=customer).exclude(evidence="").update(evidence=redacted)
        TimelineEntry.objects.filter(
            subject_type=ContentType.objects.get_for_model(Customer), subject_id=customer.pk
        ).exclude(summary="").update(summary="")
        summary.update(_erase_sections(subject, user))
        # the sales titles name the quote's recipient, the deal, the contract: kind and number only
        summary["sales_timeline_titles"] = neutral_timeline_titles(customer)
        summary["vocabulary_words"] = _forget_words(old_search_name)

        now = timezone.now()
        RetentionFlag.objects.filter(customer=customer).exclude(state=FlagState.ERASED).update(
            state=FlagState.ERASED, resolved_at=now, resolved_by=user
        )
        timeline.publish(
            subject=customer,
            kind="privacy.erasure",
            occurred_at=now,
            title=_("Personal data erased"),
            actor=user,
        )
    return ErasureRecord.objects.create(
        customer=customer, erased_at=now, erased_by=user, reason=reason, via=via, rule=rule, summary=summary
    )


def lead_erase(*, actor: Any, lead: Lead, reason: str, confirmation: str) -> ErasureRecord:
    """Erase a person known only as a lead: that lead and the other leads with its email address or phone
    that ``actor`` may see and that were converted into no customer — the leads the erasure page lists
    (``kith.privacy.selectors.sales.leads_of``). ``confirmation`` must be the lead's id typed again. A lead
    converted into a customer is erased with the customer (``customer_erase``), and so are its twins."""
    rules.require_permission(actor, "privacy", rules.ADMINISTER)
    errors: dict[str, list[str]] = {}
    reason = _clean_reason(reason, errors)
    if (confirmation or "").strip().lstrip("#") != str(lead.pk):
        errors["confirmation"] = [_("Type the lead's id %(id)s to confirm.") % {"id": lead.pk}]
    if errors:
        raise ValidationError(errors)
    return anonymise_lead(actor=actor, lead=lead, reason=reason, via=ErasureVia.MANUAL)


@transaction.atomic
def anonymise_lead(*, actor: Any, lead: Lead, reason: str, via: str) -> ErasureRecord:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.converted_customer_id is not None:
        raise DomainError(
            _("This lead became customer %(number)s: erase the customer, which covers its leads.")
            % {"number": lead.converted_customer.customer_number},  # type: ignore[union-attr]
            code="lead_converted",
        )
    if ErasureRecord.objects.filter(lead=lead).exists():
        raise DomainError(_("This lead has already been erased."), code="already_erased")
    user = actor if getattr(actor, "pk", None) else None
    subject = subject_of_lead(lead, seen_by=user)  # the twins the erasure page listed to this user
    # as for customers: the erasure is recorded as its ErasureRecord, never field by field
    with capture.suppressed():
        summary = _erase_sections(subject, user)
    return ErasureRecord.objects.create(
        lead=lead, erased_at=timezone.now(), erased_by=user, reason=reason, via=via, summary=summary
    )
