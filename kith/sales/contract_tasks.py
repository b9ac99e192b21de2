"""Background entry points of the daily sales jobs (thin: the work is in the services): contract renewal
reminders and quote expiry."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def contract_renewals(day: str) -> list[str]:
    """Email each owner the contracts whose renewal date is near (``KITH_CONTRACT_RENEWAL_DAYS``)."""
    from kith.sales.services.contracts import send_renewal_reminders

    return send_renewal_reminders(today=dt.date.fromisoformat(day))


def enqueue_contract_renewals(day: dt.date) -> object:
    return contract_renewals.enqueue(day.isoformat())


@task()
def quote_expiry(day: str) -> list[str]:
    """Mark the sent quotes whose valid-until date is before ``day`` expired; the numbers expired."""
    from kith.sales.services.quotes import quotes_expire

    return quotes_expire(today=dt.date.fromisoformat(day))


def enqueue_quote_expiry(day: dt.date) -> object:
    return quote_expiry.enqueue(day.isoformat())
