"""The data-subject export: everything Kith holds about one customer as a ZIP of JSON and CSV files."""

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
from kith.privacy.subject_data import sections
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


def collect(customer: Any) -> dict[str, list[dict[str, Any]]]:
    """Every registered section's rows for ``customer`` (no permission check: callers decide)."""
    return {section.name: list(section.rows(customer)) for section in sections()}


def export_bundle(*, actor: Any, customer: Any) -> ExportBundle:
    """Build the bundle: ``subject.json`` with every section, and one ``<section>.csv`` per section.

    Requires ("privacy", "export"); the caller has already checked that ``actor`` may see ``customer``."""
    rules.require_permission(actor, "privacy", rules.EXPORT)
    if not masking.sees_unmasked(actor, customer):
        # the bundle is everything about the person: never handed out masked or with fields left out
        raise PermissionDenied(
            _(
                "The data-subject export holds every sensitive field unmasked: it needs clearance, or an "
                "approved access request for this customer."
            )
        )
    now = timezone.now()
    data = collect(customer)
    document = {
        "format": "kith.subject-export/1",
        "generated_at": now.isoformat(),
        "customer_number": customer.customer_number,
        "sections": data,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            "subject.json",
            orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS),
        )
        for section in sections():
            rows = data[section.name]
            columns = list(section.columns)
            for row in rows:  # columns a module forgot to declare still reach the file
                columns += [k for k in row if k not in columns]
            bundle.writestr(f"{section.name}.csv", _csv(columns, rows))
    audit.record_event(
        Action.EXPORT,
        obj=customer,
        customer_id=customer.pk,
        details={"export": "data_subject", "rows": {k: len(v) for k, v in data.items()}},
        actor=actor,
    )
    audit.log_access(actor, AccessKind.EXPORT, customer_ids=[customer.pk])
    filename = f"kith-subject-{customer.customer_number}-{now:%Y%m%dT%H%M%SZ}.zip"
    return ExportBundle(
        filename=filename, content=buffer.getvalue(), counts={k: len(v) for k, v in data.items()}
    )
