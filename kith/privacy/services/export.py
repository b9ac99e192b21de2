"""The data-subject export: everything Kith holds about one person (a customer, or someone known only as a
lead) as a ZIP of JSON and CSV files, with the files the records refer to (contract documents)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.audit import services as audit
from kith.audit.choices import AccessKind, Action
from kith.privacy.selectors.subject import subject_of_customer, subject_of_lead
from kith.privacy.subject_data import Subject, sections
from kith.security import masking, rules

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ExportBundle:
    filename: str
    content: bytes
    counts: dict[str, int]


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: nested values as JSON, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        text = orjson.dumps(value, default=str).decode()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes spreadsheets read UTF-8


def collect(customer: Any = None, *, subject: Subject | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every registered section's rows for ``customer`` (or ``subject``); no permission check: callers
    decide. Sections about customers only are left out for a subject who is not one."""
    if subject is None:
        subject = subject_of_customer(customer)
    return {
        section.name: list(section.rows_of(subject)) for section in sections() if section.applies_to(subject)
    }


def _bundle(subject: Subject, data: dict[str, list[dict[str, Any]]], document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    missing: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for section in sections():
            if section.name not in data:
                continue
            rows = data[section.name]
            columns = list(section.columns)
            for row in rows:  # columns a module forgot to declare still reach the file
                columns += [k for k in row if k not in columns]
            bundle.writestr(f"{section.name}.csv", _csv(columns, rows))
            for path, read in section.files_of(subject):
                try:
                    content = read()
                except OSError:
                    missing.append(path)  # listed in subject.json: the record names a file storage lost
                    continue
                bundle.writestr(path, content)
        document["missing_files"] = missing
        bundle.writestr(
            "subject.json",
            orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS),
        )
    return buffer.getvalue()


def _document(now: Any, subject: Subject, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "kith.subject-export/2",
        "generated_at": now.isoformat(),
        "customer_number": subject.customer.customer_number if subject.customer is not None else None,
        "subject": {
            "lead_ids": sorted(subject.lead_ids),
            "emails": sorted(subject.emails),
            "phones": sorted(subject.phones),
        },
        "sections": data,
    }


def export_bundle(*, actor: Any, customer: Any = None, lead: Any = None) -> ExportBundle:
    """Build the bundle about ``customer`` or about ``lead`` (a person known only as a lead):
    ``subject.json`` with every section, one ``<section>.csv`` per section and, under ``documents/``,
    the contract documents the rows name. A lead's bundle holds the lead and its twins by email or phone
    that ``actor`` may see and that were converted into no customer (``selectors.sales.leads_of``).

    Requires ("privacy", "export"); the caller has already checked that ``actor`` may see the customer
    or the lead."""
    rules.require_permission(actor, "privacy", rules.EXPORT)
    if (customer is None) == (lead is None):
        raise ValueError("export_bundle is about a customer or a lead")
    if customer is None and lead.converted_customer_id is not None:
        # the person is a customer now: their request is answered with the customer's bundle
        raise PermissionDenied(
            _("This lead became customer %(number)s: export the customer's data instead.")
            % {"number": lead.converted_customer.customer_number}
        )
    if customer is not None and not masking.sees_unmasked(actor, customer):
        # the bundle is everything about the person: never handed out masked or with fields left out
        raise PermissionDenied(
            _(
                "The data-subject export holds every sensitive field unmasked: it needs clearance, or an "
                "approved access request for this customer."
            )
        )
    subject = subject_of_customer(customer) if customer is not None else subject_of_lead(lead, seen_by=actor)
    now = timezone.now()
    data = collect(subject=subject)
    content = _bundle(subject, data, _document(now, subject, data))
    counts = {k: len(v) for k, v in data.items()}
    if customer is not None:
        audit.record_event(
            Action.EXPORT,
            obj=customer,
            customer_id=customer.pk,
            details={"export": "data_subject", "rows": counts},
            actor=actor,
        )
        audit.log_access(actor, AccessKind.EXPORT, customer_ids=[customer.pk])
        filename = f"kith-subject-{customer.customer_number}-{now:%Y%m%dT%H%M%SZ}.zip"
    else:
        audit.record_event(
            Action.EXPORT,
            obj=lead,
            details={"export": "data_subject", "lead": lead.pk, "rows": counts},
            actor=actor,
        )
        audit.log_access(actor, AccessKind.EXPORT, filters={"lead": lead.pk}, result_count=counts["leads"])
        filename = f"kith-subject-lead-{lead.pk}-{now:%Y%m%dT%H%M%SZ}.zip"
    return ExportBundle(filename=filename, content=content, counts=counts)
