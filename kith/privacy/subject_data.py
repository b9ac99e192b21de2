"""The data-subject registry: every module that holds data about a customer registers a section once.

``register_subject_data("orders", rows, columns=(...), erase=...)`` (from ``AppConfig.ready``):

- ``rows(customer)`` returns the section's rows as flat dicts (JSON-serialisable values); the export
  writes them to ``subject.json`` and to ``<name>.csv``;
- ``columns`` names the CSV columns, so an empty section still has a header;
- ``files(customer)`` (optional) yields ``(path, read)`` for files the rows refer to (a contract's signed
  document): the bundle, a ZIP, holds them at that path;
- ``erase(customer, actor)`` (optional) removes or redacts the section's personal data when the customer
  is erased and returns a count for the erasure summary. Sections without it keep their data (business
  records), so a module that stores free text about a person must provide it.

A request is about a data subject (``Subject``): a customer, or a person known only as a lead (found by
email address or phone number). Sections registered with ``per_subject=True`` receive the ``Subject``
itself (``rows(subject)``, ``erase(subject, actor)``) and so also answer for someone who is not a
customer; the others receive the customer and are left out when the subject is not one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Rows = Callable[[Any], Iterable[dict[str, Any]]]
Eraser = Callable[[Any, Any], int]
# (path inside the bundle, a function returning the file's bytes): files a section's rows refer to
Files = Callable[[Any], Iterable[tuple[str, Callable[[], bytes]]]]


@dataclass(frozen=True)
class Subject:
    """Who a privacy request is about. ``emails`` (lower case) and ``phones`` (E.164) are the ways the
    person is known, taken when the request starts (an erasure removes them as it goes); ``lead_ids``
    names the leads the request was made from. ``seen_by`` (a person known only as a lead) is the user
    answering the request: the other leads with the person's email address or phone are the subject's
    only as far as that user sees them (None: none of them)."""

    customer: Any = None
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    lead_ids: frozenset[int] = frozenset()
    seen_by: Any = None


@dataclass(frozen=True)
class SubjectSection:
    name: str
    rows: Rows
    columns: tuple[str, ...] = ()
    erase: Eraser | None = None
    per_subject: bool = False
    files: Files | None = None

    def applies_to(self, subject: Subject) -> bool:
        return self.per_subject or subject.customer is not None

    def rows_of(self, subject: Subject) -> Iterable[dict[str, Any]]:
        return self.rows(subject if self.per_subject else subject.customer)

    def erase_of(self, subject: Subject, actor: Any) -> int:
        assert self.erase is not None
        return self.erase(subject if self.per_subject else subject.customer, actor)

    def files_of(self, subject: Subject) -> Iterable[tuple[str, Callable[[], bytes]]]:
        if self.files is None:
            return ()
        return self.files(subject if self.per_subject else subject.customer)


_sections: dict[str, SubjectSection] = {}


def register_subject_data(
    name: str,
    rows: Rows,
    *,
    columns: Iterable[str] = (),
    erase: Eraser | None = None,
    per_subject: bool = False,
    files: Files | None = None,
) -> SubjectSection:
    if not name.replace("_", "").isalnum() or not name.islower():
        raise ValueError(f"section names are lowercase words joined by _, not {name!r}")
    section = SubjectSection(
        name=name, rows=rows, columns=tuple(columns), erase=erase, per_subject=per_subject, files=files
    )
    _sections[name] = section
    return section


def sections() -> list[SubjectSection]:
    return list(_sections.values())


def register_builtin_sections() -> None:
    """Customer records (parties) and consents: the sections Kith itself holds."""
    from kith.privacy.selectors import subject

    for name, rows, columns in subject.BUILTIN_SECTIONS:
        register_subject_data(name, rows, columns=columns)


def register_sales_sections() -> None:
    """What the sales app holds about a person: leads (also for people who are not customers), deals,
    quotes, orders, shipments, invoices, payments and contracts."""
    from kith.privacy.selectors import sales as rows
    from kith.privacy.services import sales_erasure as erase

    register_subject_data(
        "leads", rows.lead_rows, columns=rows.LEAD_COLUMNS, erase=erase.erase_leads, per_subject=True
    )
    register_subject_data(
        "opportunities",
        rows.opportunity_rows,
        columns=rows.OPPORTUNITY_COLUMNS,
        erase=erase.erase_opportunities,
    )
    register_subject_data("quotes", rows.quote_rows, columns=rows.QUOTE_COLUMNS, erase=erase.erase_quotes)
    register_subject_data("quote_lines", rows.quote_line_rows, columns=rows.QUOTE_LINE_COLUMNS)
    register_subject_data("orders", rows.order_rows, columns=rows.ORDER_COLUMNS, erase=erase.erase_orders)
    register_subject_data("order_lines", rows.order_line_rows, columns=rows.ORDER_LINE_COLUMNS)
    register_subject_data(
        "shipments", rows.shipment_rows, columns=rows.SHIPMENT_COLUMNS, erase=erase.erase_shipments
    )
    register_subject_data(
        "invoices", rows.invoice_rows, columns=rows.INVOICE_COLUMNS, erase=erase.erase_invoices
    )
    register_subject_data(
        "payments", rows.payment_rows, columns=rows.PAYMENT_COLUMNS, erase=erase.erase_payments
    )
    register_subject_data(
        "contracts",
        rows.contract_rows,
        columns=rows.CONTRACT_COLUMNS,
        erase=erase.erase_contracts,
        files=rows.contract_files,
    )
