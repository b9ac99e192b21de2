"""Erasure of what the sales app holds about a person (called by ``anonymise`` through the registry).

The rule: the identity and the free text written about the person go; the business records stay with
their numbers, dates, statuses, products, quantities and amounts, so accounting, statistics and the
pipeline's history do not change.

- leads of the subject (see ``kith.privacy.selectors.sales.leads_of``): names, company, job title, email,
  phone, description and the reason for disqualifying are removed (the family name becomes "Erased lead
  <id>"); the titles of their follow-up tasks are redacted. Kept: source, status, territory, category,
  estimated value, owner, dates, what it was converted into;
- opportunities: name redacted, description, next step and closing note emptied; approval comments and
  follow-up task titles redacted. Kept: pipeline, stage history, amounts, probability, dates, reasons;
- quotes: the recipient address (``sent_to``) and the terms and notes emptied; lines kept;
- orders: notes emptied; shipments: note and tracking number emptied; lines kept;
- invoices: description emptied; payments: the reference (it may name the payer) emptied. Kept: numbers,
  dates, totals, paid amounts, currencies, statuses, methods — what accounting law requires;
- contracts: the signed document is deleted from storage (after the commit, so a rolled-back erasure
  keeps it) with its file name, type, size and checksum; the title is redacted and the notes emptied.
  Kept: reference, status, term, value, renewal;
- the customer's sales timeline entries (kinds ``sales.*``): their titles name the recipient of a quote,
  the deal, the contract; each becomes the kind's label and the record's number ("Quote Q2026-00001",
  "Opportunity #12"; ``neutral_timeline_titles``). Kind, time, author and source stay; the summaries
  are emptied with every other timeline summary of the customer.

A lead converted into another customer is never the subject's, even when it shares the subject's email
address or phone (``leads_of``): it is erased with its own customer.

The sales services are not used here: they refuse changes to confirmed orders, issued invoices or
converted leads, as they should for everyone but an erasure. The rows are changed with single UPDATEs
inside ``anonymise``'s transaction and its suppressed audit capture (the erasure is recorded as its
``ErasureRecord``, never field by field, so the trail does not copy the identity).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.models import TimelineEntry
from kith.privacy.selectors.sales import leads_of
from kith.privacy.subject_data import Subject
from kith.sales.models import (
    Approval,
    Contract,
    FollowUpTask,
    Invoice,
    Lead,
    Opportunity,
    Order,
    Payment,
    Quote,
    Shipment,
)

logger = logging.getLogger(__name__)


def _redacted() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("[redacted]")


def erased_lead_label(lead_id: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Erased lead %(id)s") % {"id": lead_id}


def _touch() -> dict[str, Any]:
    """The fields every versioned row gets on a change: a new version, so open forms cannot save over it."""
    return {"version": F("version") + 1, "updated_at": timezone.now()}


def erase_leads(subject: Subject, actor: Any) -> int:
    ids = list(leads_of(subject).values_list("pk", flat=True))
    for lead_id in ids:
        Lead.objects.filter(pk=lead_id).update(
            given_name="",
            family_name=erased_lead_label(lead_id),
            company="",
            title="",
            email="",
            phone="",
            phone_raw="",
            description="",
            disqualified_reason="",
            **_touch(),
        )
    FollowUpTask.objects.filter(lead_id__in=ids).update(title=_redacted(), **_touch())
    return len(ids)


def erase_opportunities(customer: Any, actor: Any) -> int:
    deals = Opportunity.objects.filter(customer_id=customer.pk)
    ids = list(deals.values_list("pk", flat=True))
    deals.update(name=_redacted(), description="", next_step="", close_note="", **_touch())
    Approval.objects.filter(opportunity_id__in=ids).update(
        request_comment="", decision_comment="", updated_at=timezone.now()
    )
    FollowUpTask.objects.filter(opportunity_id__in=ids).update(title=_redacted(), **_touch())
    return len(ids)


def erase_quotes(customer: Any, actor: Any) -> int:
    return Quote.objects.filter(customer_id=customer.pk).update(sent_to="", terms="", **_touch())


def erase_orders(customer: Any, actor: Any) -> int:
    return Order.objects.filter(customer_id=customer.pk).update(notes="", **_touch())


def erase_shipments(customer: Any, actor: Any) -> int:
    return Shipment.objects.filter(order__customer_id=customer.pk).update(
        note="", tracking="", updated_at=timezone.now()
    )


def erase_invoices(customer: Any, actor: Any) -> int:
    return Invoice.objects.filter(customer_id=customer.pk).update(description="", **_touch())


def erase_payments(customer: Any, actor: Any) -> int:
    return Payment.objects.filter(customer_id=customer.pk).update(reference="", updated_at=timezone.now())


def _delete_after_commit(storage: Any, names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("contract document %s could not be deleted", name)

    if names:
        transaction.on_commit(delete)


def erase_contracts(customer: Any, actor: Any) -> int:
    contracts = Contract.objects.filter(customer_id=customer.pk)
    storage = Contract._meta.get_field("document").storage  # type: ignore[attr-defined]
    documents = [name for name in contracts.exclude(document="").values_list("document", flat=True) if name]
    count = contracts.update(
        title=_redacted(),
        notes="",
        document="",
        document_name="",
        document_type="",
        document_size=None,
        document_sha256="",
        **_touch(),
    )
    _delete_after_commit(storage, documents)
    return count


SALES_KINDS = "sales."  # the prefix of the timeline kinds the sales app publishes


def _record_numbers(entries: list[TimelineEntry]) -> dict[tuple[int, int], str]:
    """(source type, source id) -> the record's number, for the sources that have one (quotes, orders,
    shipments, invoices); one query per kind of record."""
    wanted: dict[int, set[int]] = {}
    for entry in entries:
        if entry.source_type_id is not None and entry.source_id is not None:
            wanted.setdefault(entry.source_type_id, set()).add(entry.source_id)
    numbers: dict[tuple[int, int], str] = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None or not any(f.name == "number" for f in model._meta.concrete_fields):
            continue
        for pk, number in model._default_manager.filter(pk__in=sorted(ids)).values_list("pk", "number"):
            if number:
                numbers[(type_id, pk)] = str(number)
    return numbers


def neutral_timeline_titles(customer: Any) -> int:
    """Give every sales timeline entry of ``customer`` a title without personal data: the kind's label
    and the record's number, or its id when it has no number ("Quote Q2026-00001", "Opportunity #12").
    The sales services write the recipient, the deal's name or the contract's title into the titles."""
    entries = list(
        TimelineEntry.objects.filter(
            subject_type=ContentType.objects.get_for_model(customer),
            subject_id=customer.pk,
            kind__startswith=SALES_KINDS,
        ).only("id", "kind", "title", "source_type_id", "source_id")
    )
    numbers = _record_numbers(entries)
    changed = []
    with translation.override(settings.LANGUAGE_CODE):
        for entry in entries:
            label = timeline.kind_label(entry.kind)
            if entry.source_id is None:
                title = label
            else:
                number = numbers.get((entry.source_type_id or 0, entry.source_id))
                title = _("%(kind)s %(number)s") % {
                    "kind": label,
                    "number": number or f"#{entry.source_id}",
                }
            if entry.title != title:
                entry.title = title[:300]
                changed.append(entry)
    TimelineEntry.objects.bulk_update(changed, ["title"], batch_size=500)
    return len(entries)
