"""What the sales app holds about a data subject, section by section, for the data-subject export.

Leads are matched to a person, not only to a customer (``leads_of``):

- a customer's leads are the leads converted into the customer and the leads with one of the customer's
  email addresses (lower case, as the lead service stores them) or phone numbers (E.164) that were not
  converted into another customer: a lead converted into customer B is B's, even when B shares a mailbox
  or a phone with the subject;
- the leads of a person known only as a lead are the leads the request names and the leads with the
  person's email address or phone that were converted into no customer (a converted lead is answered
  with its customer) and that the user answering the request may see (``Subject.seen_by``).

Deals, quotes, orders, shipments, invoices, payments and contracts belong to a customer through their
``customer`` key.

Reads the sales models directly: a customer's export is everything, whoever owns the records, so the
permission-scoped sales selectors do not fit (the caller has checked the privacy permission).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet

from kith.privacy.selectors.subject import _plain, _user
from kith.privacy.subject_data import Subject
from kith.sales.choices import LEAD
from kith.sales.models import (
    Contract,
    FollowUpTask,
    Invoice,
    Lead,
    Opportunity,
    Order,
    OrderLine,
    Payment,
    Quote,
    QuoteLine,
    Shipment,
)
from kith.security.selectors import visible_q

# where a contract's document is put in the export bundle (see ``contract_files``)
DOCUMENTS_FOLDER = "documents"


def leads_of(subject: Subject) -> QuerySet[Lead]:
    """Every lead about the subject (the rule is in the module docstring). The export, the erasure and
    the erasure page all use it, so what is shown is what is exported and erased."""
    match = Q(pk__in=sorted(subject.lead_ids)) if subject.lead_ids else Q(pk__in=[])
    customer_id = subject.customer.pk if subject.customer is not None else None
    if customer_id is not None:
        match |= Q(converted_customer_id=customer_id)
    emails = sorted(e for e in subject.emails if e)
    phones = sorted(p for p in subject.phones if p)
    if emails or phones:
        known = Q(email__in=emails) if emails else Q(phone__in=phones)
        if emails and phones:
            known |= Q(phone__in=phones)
        if customer_id is not None:
            # a twin converted into another customer belongs to that customer's request
            twins = known & (Q(converted_customer__isnull=True) | Q(converted_customer_id=customer_id))
        else:
            twins = known & Q(converted_customer__isnull=True) & visible_q(subject.seen_by, LEAD)
        match |= twins
    return Lead.objects.filter(match).order_by("created_at", "id")


LEAD_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "company",
    "title",
    "email",
    "phone",
    "phone_raw",
    "territory",
    "category",
    "source",
    "status",
    "description",
    "estimated_value",
    "currency",
    "owner",
    "web_form",
    "disqualified_reason",
    "converted_customer_number",
    "converted_at",
    "created_at",
    "updated_at",
    "tasks",
)


def lead_rows(subject: Subject) -> list[dict[str, Any]]:
    leads = list(leads_of(subject).select_related("category", "owner", "web_form", "converted_customer"))
    tasks: dict[int, list[dict[str, Any]]] = {}
    for task in FollowUpTask.objects.filter(lead__in=[lead.pk for lead in leads]).order_by("due_date", "id"):
        assert task.lead_id is not None
        tasks.setdefault(task.lead_id, []).append(
            {"title": task.title, "due_date": _plain(task.due_date), "done_at": _plain(task.done_at)}
        )
    return [
        {
            "id": lead.pk,
            "given_name": lead.given_name,
            "family_name": lead.family_name,
            "company": lead.company,
            "title": lead.title,
            "email": lead.email,
            "phone": lead.phone,
            "phone_raw": lead.phone_raw,
            "territory": lead.territory,
            "category": lead.category.path if lead.category else "",
            "source": lead.source,
            "status": lead.status,
            "description": lead.description,
            "estimated_value": _plain(lead.estimated_value),
            "currency": lead.currency,
            "owner": _user(lead.owner),
            "web_form": lead.web_form.name if lead.web_form else "",
            "disqualified_reason": lead.disqualified_reason,
            "converted_customer_number": (
                lead.converted_customer.customer_number if lead.converted_customer else ""
            ),
            "converted_at": _plain(lead.converted_at),
            "created_at": _plain(lead.created_at),
            "updated_at": _plain(lead.updated_at),
            "tasks": tasks.get(lead.pk, []),
        }
        for lead in leads
    ]


OPPORTUNITY_COLUMNS = (
    "id",
    "name",
    "pipeline",
    "stage",
    "status",
    "amount",
    "currency",
    "discount_percent",
    "probability",
    "expected_close_date",
    "next_step",
    "competitors",
    "description",
    "close_reason",
    "close_note",
    "closed_at",
    "owner",
    "lead_id",
    "created_at",
    "stage_history",
    "approvals",
    "tasks",
)


def opportunity_rows(customer: Any) -> list[dict[str, Any]]:
    deals = (
        Opportunity.objects.filter(customer_id=customer.pk)
        .select_related("pipeline", "stage", "close_reason", "owner")
        .prefetch_related("stage_changes__from_stage", "stage_changes__to_stage", "approvals", "tasks")
        .order_by("created_at", "id")
    )
    return [
        {
            "id": deal.pk,
            "name": deal.name,
            "pipeline": deal.pipeline.name,
            "stage": deal.stage.name,
            "status": deal.status,
            "amount": _plain(deal.amount),
            "currency": deal.currency,
            "discount_percent": _plain(deal.discount_percent),
            "probability": deal.probability,
            "expected_close_date": _plain(deal.expected_close_date),
            "next_step": deal.next_step,
            "competitors": deal.competitors,
            "description": deal.description,
            "close_reason": deal.close_reason.name if deal.close_reason else "",
            "close_note": deal.close_note,
            "closed_at": _plain(deal.closed_at),
            "owner": _user(deal.owner),
            "lead_id": deal.lead_id,
            "created_at": _plain(deal.created_at),
            "stage_history": [
                {
                    "from": change.from_stage.name if change.from_stage else "",
                    "to": change.to_stage.name if change.to_stage else "",
                    "changed_at": _plain(change.changed_at),
                }
                for change in deal.stage_changes.all()
            ],
            "approvals": [
                {
                    "status": approval.status,
                    "reasons": approval.reasons,
                    "amount": _plain(approval.amount),
                    "currency": approval.currency,
                    "discount_percent": _plain(approval.discount_percent),
                    "request_comment": approval.request_comment,
                    "decision_comment": approval.decision_comment,
                    "decided_at": _plain(approval.decided_at),
                }
                for approval in deal.approvals.all()
            ],
            "tasks": [
                {"title": t.title, "due_date": _plain(t.due_date), "done_at": _plain(t.done_at)}
                for t in deal.tasks.all()
            ],
        }
        for deal in deals
    ]


QUOTE_COLUMNS = (
    "number",
    "revision",
    "status",
    "opportunity_id",
    "currency",
    "valid_until",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "terms",
    "sent_at",
    "sent_to",
    "decided_at",
    "owner",
    "created_at",
)


def quote_rows(customer: Any) -> list[dict[str, Any]]:
    quotes = (
        Quote.objects.filter(customer_id=customer.pk).select_related("owner").order_by("created_at", "id")
    )
    return [
        {
            "number": q.number,
            "revision": q.revision,
            "status": q.status,
            "opportunity_id": q.opportunity_id,
            "currency": q.currency,
            "valid_until": _plain(q.valid_until),
            "subtotal": _plain(q.subtotal),
            "discount_total": _plain(q.discount_total),
            "tax_total": _plain(q.tax_total),
            "total": _plain(q.total),
            "terms": q.terms,
            "sent_at": _plain(q.sent_at),
            "sent_to": q.sent_to,
            "decided_at": _plain(q.decided_at),
            "owner": _user(q.owner),
            "created_at": _plain(q.created_at),
        }
        for q in quotes
    ]


LINE_COLUMNS = (
    "position",
    "sku",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "currency",
    "discount_percent",
    "tax_rate",
    "net",
    "tax",
    "total",
)
QUOTE_LINE_COLUMNS = ("quote_number", "revision", *LINE_COLUMNS)


def _line(line: Any) -> dict[str, Any]:
    return {
        "position": line.position,
        "sku": line.product.sku if line.product else "",
        "description": line.description,
        "quantity": _plain(line.quantity),
        "unit": line.unit,
        "unit_price": _plain(line.unit_price),
        "currency": line.currency,
        "discount_percent": _plain(line.discount_percent),
        "tax_rate": _plain(line.tax_rate),
        "net": _plain(line.net),
        "tax": _plain(line.tax),
        "total": _plain(line.total),
    }


def quote_line_rows(customer: Any) -> Iterator[dict[str, Any]]:
    lines = (
        QuoteLine.objects.filter(quote__customer_id=customer.pk)
        .select_related("quote", "product")
        .order_by("quote__created_at", "quote_id", "position", "id")
    )
    for line in lines.iterator(2000):
        yield {"quote_number": line.quote.number, "revision": line.quote.revision, **_line(line)}


ORDER_COLUMNS = (
    "number",
    "status",
    "quote",
    "opportunity_id",
    "currency",
    "requested_delivery_date",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "notes",
    "confirmed_at",
    "cancelled_at",
    "owner",
    "created_at",
)


def order_rows(customer: Any) -> list[dict[str, Any]]:
    orders = (
        Order.objects.filter(customer_id=customer.pk)
        .select_related("quote", "owner")
        .order_by("created_at", "id")
    )
    return [
        {
            "number": o.number,
            "status": o.status,
            "quote": str(o.quote) if o.quote else "",
            "opportunity_id": o.opportunity_id,
            "currency": o.currency,
            "requested_delivery_date": _plain(o.requested_delivery_date),
            "subtotal": _plain(o.subtotal),
            "discount_total": _plain(o.discount_total),
            "tax_total": _plain(o.tax_total),
            "total": _plain(o.total),
            "notes": o.notes,
            "confirmed_at": _plain(o.confirmed_at),
            "cancelled_at": _plain(o.cancelled_at),
            "owner": _user(o.owner),
            "created_at": _plain(o.created_at),
        }
        for o in orders
    ]


ORDER_LINE_COLUMNS = (
    "order_number",
    *LINE_COLUMNS,
    "product_model",
    "requested_delivery_date",
    "shipped_quantity",
    "cancelled_quantity",
)


def order_line_rows(customer: Any) -> Iterator[dict[str, Any]]:
    lines = (
        OrderLine.objects.filter(order__customer_id=customer.pk)
        .select_related("order", "product")
        .order_by("order__created_at", "order_id", "position", "id")
    )
    for line in lines.iterator(2000):
        yield {
            "order_number": line.order.number,
            **_line(line),
            "product_model": line.product_model,
            "requested_delivery_date": _plain(line.requested_delivery_date),
            "shipped_quantity": _plain(line.shipped_quantity),
            "cancelled_quantity": _plain(line.cancelled_quantity),
        }


SHIPMENT_COLUMNS = ("number", "order_number", "shipped_on", "carrier", "tracking", "note", "lines")


def shipment_rows(customer: Any) -> list[dict[str, Any]]:
    shipments = (
        Shipment.objects.filter(order__customer_id=customer.pk)
        .select_related("order")
        .prefetch_related("lines__order_line")
        .order_by("shipped_on", "id")
    )
    return [
        {
            "number": s.number,
            "order_number": s.order.number,
            "shipped_on": _plain(s.shipped_on),
            "carrier": s.carrier,
            "tracking": s.tracking,
            "note": s.note,
            "lines": [
                {
                    "line": line.line_number,
                    "description": line.order_line.description,
                    "quantity": _plain(line.quantity),
                }
                for line in s.lines.all()
            ],
        }
        for s in shipments
    ]


INVOICE_COLUMNS = (
    "number",
    "order_number",
    "issued_on",
    "due_on",
    "total",
    "currency",
    "paid",
    "status",
    "description",
    "owner",
    "created_at",
)


def invoice_rows(customer: Any) -> list[dict[str, Any]]:
    invoices = (
        Invoice.objects.filter(customer_id=customer.pk)
        .select_related("order", "owner")
        .order_by("issued_on", "id")
    )
    return [
        {
            "number": i.number,
            "order_number": i.order.number if i.order else "",
            "issued_on": _plain(i.issued_on),
            "due_on": _plain(i.due_on),
            "total": _plain(i.total),
            "currency": i.currency,
            "paid": _plain(i.paid),
            "status": i.status,
            "description": i.description,
            "owner": _user(i.owner),
            "created_at": _plain(i.created_at),
        }
        for i in invoices
    ]


PAYMENT_COLUMNS = ("invoice_number", "amount", "currency", "method", "paid_on", "reference", "created_at")


def payment_rows(customer: Any) -> list[dict[str, Any]]:
    payments = (
        Payment.objects.filter(customer_id=customer.pk).select_related("invoice").order_by("paid_on", "id")
    )
    return [
        {
            "invoice_number": p.invoice.number if p.invoice else "",
            "amount": _plain(p.amount),
            "currency": p.currency,
            "method": p.method,
            "paid_on": _plain(p.paid_on),
            "reference": p.reference,
            "created_at": _plain(p.created_at),
        }
        for p in payments
    ]


CONTRACT_COLUMNS = (
    "id",
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
    "document_name",
    "document_type",
    "document_size",
    "document_sha256",
    "document_file",
    "owner",
    "created_at",
)


def contract_document_path(contract: Contract) -> str:
    """The document's place in the export bundle: ``documents/contract-<id>-<its file name>``."""
    name = (
        (contract.document_name or contract.document.name or "document").replace("/", "_").replace("\\", "_")
    )
    return f"{DOCUMENTS_FOLDER}/contract-{contract.pk}-{name}"


def _contracts(customer: Any) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(customer_id=customer.pk).select_related("owner").order_by("start_date", "id")
    )


def contract_rows(customer: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "title": c.title,
            "reference": c.reference,
            "status": c.status,
            "start_date": _plain(c.start_date),
            "end_date": _plain(c.end_date),
            "value": _plain(c.value),
            "currency": c.currency,
            "renewal_date": _plain(c.renewal_date),
            "auto_renew": c.auto_renew,
            "notice_days": c.notice_days,
            "notes": c.notes,
            "document_name": c.document_name,
            "document_type": c.document_type,
            "document_size": c.document_size,
            "document_sha256": c.document_sha256,
            # the file itself is in the bundle at this path (empty: no document)
            "document_file": contract_document_path(c) if c.document else "",
            "owner": _user(c.owner),
            "created_at": _plain(c.created_at),
        }
        for c in _contracts(customer)
    ]


def contract_files(customer: Any) -> Iterator[tuple[str, Any]]:
    """(path in the bundle, a function returning the document's bytes) per contract with a document."""
    for contract in _contracts(customer).exclude(document=""):
        field = contract.document

        def read(field: Any = field) -> bytes:
            with field.storage.open(field.name, "rb") as handle:
                return bytes(handle.read())

        yield contract_document_path(contract), read


def documents_of(customer: Any) -> int:
    """How many contract documents an erasure of ``customer`` deletes (for the erasure page)."""
    return Contract.objects.filter(customer_id=customer.pk).exclude(document="").count()
