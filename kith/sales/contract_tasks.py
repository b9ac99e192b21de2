"""Background entry point of contract renewal reminders (thin: the work is in the contracts service)."""

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
