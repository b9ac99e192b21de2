"""Special dates (birthdays, founding days, wedding days ...) and keeping the derived ones in step."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kith.parties.choices import DERIVED_DATE_KINDS, SpecialDateKind
from kith.parties.models import Customer, SpecialDate
from kith.parties.services.access import require_change


def _derived(customer: Customer) -> dict[str, tuple[int | None, int, int] | None]:
    """The birthday (from ``birth_date``) and founding day (from ``founded_date``) as (year, month, day);
    a birthday keeps no year: the birth date is encrypted, and the age is read from it when shown."""
    birth = customer.birth_date if customer.is_person else None
    founded = customer.founded_date if customer.is_company else None
    return {
        SpecialDateKind.BIRTHDAY: (None, birth.month, birth.day) if birth else None,
        SpecialDateKind.FOUNDING: (founded.year, founded.month, founded.day) if founded else None,
    }


def sync_derived_dates(customer: Customer) -> None:
    """Keep the birthday and founding day of a changed customer in step with its dates."""
    existing = {d.kind: d for d in SpecialDate.objects.filter(customer=customer, kind__in=DERIVED_DATE_KINDS)}
    for kind, wanted in _derived(customer).items():
        row = existing.get(kind)
        if wanted is None:
            if row is not None:
                row.delete()
        elif row is None:
            SpecialDate(customer=customer, kind=kind, year=wanted[0], month=wanted[1], day=wanted[2]).save()
        elif (row.year, row.month, row.day) != wanted:
            row.year, row.month, row.day = wanted
            row.save()


def sync_derived_dates_many(customers: Iterable[Customer]) -> None:
    """The derived dates of customers just created, in one insert."""
    SpecialDate.objects.bulk_create(
        [
            SpecialDate(
                customer=customer,
                kind=kind,
                year=wanted[0],
                month=wanted[1],
                day=wanted[2],
                month_day=wanted[1] * 100 + wanted[2],  # what save() sets; bulk_create calls no save()
            )
            for customer in customers
            for kind, wanted in _derived(customer).items()
            if wanted is not None
        ]
    )


def _check_day(month: int, day: int, year: int | None) -> None:
    if not 1 <= month <= 12:
        raise ValidationError({"month": [_("Month must be between 1 and 12.")]})
    # Without a year, 29 February is allowed (a leap-day birthday with unknown year).
    last = calendar.monthrange(year or 2000, month)[1]
    if not 1 <= day <= last:
        raise ValidationError({"day": [_("That month has no day %(day)d.") % {"day": day}]})


@transaction.atomic
def special_date_add(
    *,
    actor: Any,
    customer: Customer,
    kind: str,
    month: int,
    day: int,
    year: int | None = None,
    label: str = "",
) -> SpecialDate:
    require_change(actor, customer)
    if kind not in SpecialDateKind.values:
        raise ValidationError({"kind": [_("Unknown kind of date.")]})
    if kind in DERIVED_DATE_KINDS:
        raise ValidationError(
            {"kind": [_("Birthdays and founding days come from the customer's birth or founding date.")]}
        )
    if year is not None and not 1800 <= int(year) <= 2200:
        raise ValidationError({"year": [_("Enter a year between 1800 and 2200.")]})
    _check_day(int(month), int(day), int(year) if year else None)
    if kind == SpecialDateKind.CUSTOM and not label.strip():
        raise ValidationError({"label": [_("Say what this date is.")]})
    row = SpecialDate(
        customer=customer, kind=kind, label=label.strip()[:100], year=year, month=month, day=day
    )
    row.save()
    return row


@transaction.atomic
def special_date_remove(*, actor: Any, special_date: SpecialDate) -> None:
    require_change(actor, special_date.customer)
    if special_date.kind in DERIVED_DATE_KINDS:
        raise ValidationError(_("Clear the birth or founding date on the customer instead."))
    special_date.delete()


def celebrated_on(month: int, day: int, year: int) -> dt.date:
    """The date an anniversary is celebrated in ``year``: 29 February falls on 28 February in common years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def month_days_celebrated_on(date: dt.date) -> list[int]:
    """The stored MMDD keys whose anniversary falls on ``date`` (28 Feb in a common year also takes 29 Feb)."""
    keys = [date.month * 100 + date.day]
    if date.month == 2 and date.day == 28 and not calendar.isleap(date.year):
        keys.append(229)
    return keys


def next_celebration(month: int, day: int, *, today: dt.date) -> dt.date:
    """The next day (``today`` included) on which a month-day anniversary is celebrated."""
    this_year = celebrated_on(month, day, today.year)
    return this_year if this_year >= today else celebrated_on(month, day, today.year + 1)
