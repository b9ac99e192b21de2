"""``kith import_leads FILE``: leads from a CSV or XLSX file, each row through the lead service (so
validation, assignment rules and the audit trail apply), with a per-row error report."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kith.core.readers import ReadError, open_table
from kith.sales.choices import LeadSource
from kith.sales.services.leads import lead_create

# column names as people write them -> lead fields (compared lower-case, spaces and dashes as "_")
ALIASES = {
    "given_name": "given_name",
    "first_name": "given_name",
    "firstname": "given_name",
    "forename": "given_name",
    "family_name": "family_name",
    "last_name": "family_name",
    "lastname": "family_name",
    "surname": "family_name",
    "company": "company",
    "company_name": "company",
    "organisation": "company",
    "organization": "company",
    "account": "company",
    "title": "title",
    "job_title": "title",
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "phone": "phone",
    "mobile": "phone",
    "telephone": "phone",
    "phone_number": "phone",
    "territory": "territory",
    "region": "territory",
    "country": "territory",
    "source": "source",
    "description": "description",
    "notes": "description",
    "estimated_value": "estimated_value",
    "value": "estimated_value",
    "currency": "currency",
}


def field_of(column: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", column.strip().lower())
    return ALIASES.get(key)


class Command(BaseCommand):
    help = (
        "Import leads from FILE (CSV or XLSX) as USER: columns such as first name, last name, company, "
        "email, phone, title, territory, source, notes are recognised; each row is created through the "
        "lead service (no owner: the assignment rules), and rows with errors are reported, not saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="the user the import is made as")
        parser.add_argument("--errors", help="write the refused rows, with the reasons, to this CSV file")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no file {path}")
        try:
            table = open_table(path)
        except ReadError as exc:
            raise CommandError(exc.message) from exc
        if table.format == "vcard":
            raise CommandError("a vCard file holds contacts: use `kith import` for customers")
        mapping = {column: field_of(column) for column in table.columns}
        used = {column: target for column, target in mapping.items() if target}
        if not used:
            raise CommandError("no column is recognised (expected names such as email, company, last name)")
        created, refused = 0, []
        for number, row in enumerate(table.rows(), start=2):  # row 1 is the header
            data: dict[str, Any] = {}
            for column, target in used.items():
                value = (row.get(column) or "").strip()
                if value and target not in data:  # two columns for one field: the first filled wins
                    data[target] = value
            data.setdefault("source", LeadSource.IMPORT)
            if not any(v for k, v in data.items() if k != "source"):
                continue  # an empty line
            try:
                lead_create(actor=user, data=data)
            except ValidationError as exc:
                reasons = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
                refused.append((number, reasons, row))
                self.stderr.write(f"row {number}: {reasons}")
            except PermissionDenied as exc:
                raise CommandError(f"{user.get_username()} may not create leads") from exc
            else:
                created += 1
        if options.get("errors") and refused:
            with Path(options["errors"]).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "errors", *table.columns])
                for number, reasons, row in refused:
                    writer.writerow([number, reasons, *(row.get(c, "") for c in table.columns)])
        self.stdout.write(f"{created} lead(s) created, {len(refused)} row(s) refused")
