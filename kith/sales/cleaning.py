"""The small input checks every sales service shares (a field's errors go into one dict, all at once):
blank values, dates, percentages, bounded text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

Errors = dict[str, list[str]]


def add_error(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_date(value: Any, field: str, errors: Errors, *, required: bool = False) -> dt.date | None:
    if blank(value):
        if required:
            add_error(errors, field, _("Give the date (YYYY-MM-DD)."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        add_error(errors, field, _("Enter a date as YYYY-MM-DD."))
        return None


def clean_text(value: Any, field: str, limit: int, errors: Errors, *, required: str = "") -> str:
    text = "" if value is None else str(value).strip()
    if not text and required:
        add_error(errors, field, required)
    elif len(text) > limit:
        add_error(errors, field, _("At most %(n)d characters.") % {"n": limit})
    return text[:limit]


def clean_percent(value: Any, field: str, errors: Errors) -> Decimal | None:
    """A percentage from 0 to 100 with at most two decimals ("" and None are 0)."""
    if blank(value):
        return Decimal("0.00")
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        add_error(errors, field, _("Enter a percentage such as 5 or 12.5."))
        return None
    if not Decimal(0) <= number <= Decimal(100):
        add_error(errors, field, _("A percentage from 0 to 100."))
        return None
    if number != number.quantize(Decimal("0.01")):
        add_error(errors, field, _("At most two decimal places."))
        return None
    return number.quantize(Decimal("0.01")) + 0
