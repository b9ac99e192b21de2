"""Deals (opportunities) from a CSV or XLSX file, each created through ``opportunity_create`` (so the
permission, customer visibility, field security, the approval gate and the timeline stay the service's),
with a per-row error report (row, column, reason) and a dry run. Rules in docs/sales-import.md ("Deals").

- The customer is named by its customer number and must be one the importing user may see (the customer
  selector the service uses); the pipeline and the stage by name (empty: the default pipeline, its first
  open stage); the owner by username (empty: the importing user).
- A row whose customer already has an open deal of the same name (ignoring case) is counted unchanged and
  calls no service, so importing the same file again creates nothing.
- Each row is created in its own savepoint: a refused row does not lose the others.
- ``dry_run``: everything is done and checked as for real, then rolled back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kith.core.errors import DomainError
from kith.core.readers import ReadError, Table, open_table
from kith.parties.models import Customer
from kith.parties.selectors.customers import customers_for
from kith.sales.choices import OPPORTUNITY, OpportunityStatus
from kith.sales.imports.catalogue import (
    ImportResult,
    RowError,
    number_text,
    run_import,
    table_columns,
    table_rows,
    validation_errors,
)
from kith.sales.models import Opportunity, Pipeline, Stage
from kith.sales.services.opportunities import default_pipeline, opportunity_create
from kith.security.rules import IMPORT, require_permission

__all__ = ["OPPORTUNITY_COLUMNS", "ImportResult", "ReadError", "RowError", "import_opportunities"]

# column names as people write them -> fields (compared lower-case, spaces, dashes and dots as "_")
OPPORTUNITY_COLUMNS = {
    "customer_number": "customer_number",
    "customer_no": "customer_number",
    "customer": "customer_number",
    "customer_id": "customer_number",
    "account_number": "customer_number",
    "name": "name",
    "deal": "name",
    "deal_name": "name",
    "opportunity": "name",
    "opportunity_name": "name",
    "title": "name",
    "pipeline": "pipeline",
    "stage": "stage",
    "amount": "amount",
    "value": "amount",
    "deal_value": "amount",
    "currency": "currency",
    "discount": "discount_percent",
    "discount_%": "discount_percent",
    "discount_percent": "discount_percent",
    "expected_close_date": "expected_close_date",
    "expected_close": "expected_close_date",
    "close_date": "expected_close_date",
    "owner": "owner",
    "deal_owner": "owner",
    "next_step": "next_step",
    "competitors": "competitors",
    "competition": "competitors",
    "description": "description",
    "notes": "description",
}
# the service's error keys -> the fields of the file
_SERVICE_FIELDS = {"customer": "customer_number"}


def _read(path: Path, filename: str) -> tuple[Table, dict[str, str]]:
    table = open_table(path, filename=filename)
    if table.format == "vcard":
        raise ReadError(_("A vCard file holds contacts, not deals."))
    columns = table_columns(table, OPPORTUNITY_COLUMNS)
    missing = [name for name in ("customer_number", "name") if name not in columns]
    if missing:
        raise ReadError(
            _("The file has no column for: %(fields)s (found: %(columns)s).")
            % {"fields": ", ".join(missing), "columns": ", ".join(table.columns)}
        )
    return table, columns


def import_opportunities(
    path: Path, *, actor: Any, dry_run: bool = False, filename: str = ""
) -> ImportResult:
    """Create deals from the file (raises ``ReadError`` when it cannot be read as a table,
    ``PermissionDenied`` without the permission to import deals)."""
    if actor is not None:
        require_permission(actor, OPPORTUNITY, IMPORT)
    table, columns = _read(path, filename)
    result = ImportResult()

    def work() -> None:
        for number, values in table_rows(table, columns, result):
            data = _row_data(number, values, actor, columns, result)
            if data is not None:
                _create(number, data, actor, columns, result)

    return run_import(result, dry_run, work)


def _visible_customers(actor: Any) -> Any:
    return Customer.objects.all() if actor is None else customers_for(actor)


def _row_data(
    number: int, values: dict[str, str], actor: Any, columns: dict[str, str], result: ImportResult
) -> dict[str, Any] | None:
    """The service's data of a row, or None when the row is refused (or already imported)."""
    ok = True
    customer = None
    customer_number = values.get("customer_number", "")
    if not customer_number:
        result.refuse(number, columns["customer_number"], _("Give the customer number."))
        ok = False
    else:
        customer = _visible_customers(actor).filter(customer_number__iexact=customer_number).first()
        if customer is None:  # unknown or not visible: the same answer, so nothing leaks
            result.refuse(number, columns["customer_number"], _("No customer you may see has this number."))
            ok = False
    name = values.get("name", "")
    if not name:
        result.refuse(number, columns["name"], _("Give the deal a name."))
        ok = False
    pipeline: Pipeline | None = None
    if values.get("pipeline"):
        pipeline = Pipeline.objects.filter(name__iexact=values["pipeline"]).first()
        if pipeline is None:
            result.refuse(number, columns["pipeline"], _("No pipeline has this name."))
            ok = False
    stage: Stage | None = None
    if values.get("stage") and (pipeline is not None or not values.get("pipeline")):
        within = pipeline or default_pipeline()
        stage = (
            Stage.objects.filter(pipeline=within, name__iexact=values["stage"]).first()
            if within is not None
            else None
        )
        if stage is None:
            result.refuse(
                number,
                columns["stage"],
                _("The pipeline “%(pipeline)s” has no stage of this name.")
                % {"pipeline": within.name if within is not None else ""},
            )
            ok = False
    owner = None
    if values.get("owner"):
        user_model = get_user_model()
        owner = user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__iexact": values["owner"]}).first()
        if owner is None:
            result.refuse(number, columns["owner"], _("No user has this username."))
            ok = False
    if not ok or customer is None:
        return None
    if Opportunity.objects.filter(
        customer=customer, name__iexact=name, status=OpportunityStatus.OPEN
    ).exists():
        result.unchanged += 1
        return None
    data: dict[str, Any] = {"customer": customer.pk, "name": name}
    if pipeline is not None:
        data["pipeline"] = pipeline
    if stage is not None:
        data["stage"] = stage
    if owner is not None:
        data["owner"] = owner
    for target in ("amount", "currency", "discount_percent", "expected_close_date"):
        text = values.get(target, "")
        if not text:
            continue
        if target == "amount":
            text = number_text(text)
        elif target == "discount_percent":
            text = text.rstrip("%").strip()
        elif target == "currency":
            text = text.upper()
        elif target == "expected_close_date":
            text = text[:10]  # an XLSX date cell reads as "YYYY-MM-DD 00:00:00"
        data[target] = text
    for target in ("next_step", "competitors", "description"):
        if values.get(target):
            data[target] = values[target]
    return data


def _create(
    number: int, data: dict[str, Any], actor: Any, columns: dict[str, str], result: ImportResult
) -> None:
    try:
        with transaction.atomic():  # a savepoint per row: a refused row does not lose the others
            opportunity_create(actor=actor, data=data)
            result.created += 1
    except ValidationError as exc:
        for key, reason in validation_errors(exc):
            result.refuse(number, columns.get(_SERVICE_FIELDS.get(key, key), ""), reason)
    except PermissionDenied:
        result.refuse(number, "", _("You may not create deals."))
    except DomainError as exc:  # the approval gate of the stage
        result.refuse(number, columns.get("stage", ""), exc.message)
