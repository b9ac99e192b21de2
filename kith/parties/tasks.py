"""Background entry points of the parties domain (thin: the work is in the services)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from kith.parties.services.digest import send_anniversary_digest


@task()
def anniversary_digest(day: str) -> list[str]:
    """Email each account manager the anniversaries of the seven days from ``day`` (ISO date)."""
    return send_anniversary_digest(start=dt.date.fromisoformat(day))


def enqueue_anniversary_digest(day: dt.date) -> object:
    """The daily job's hook: task arguments are JSON, so the day travels as ISO text."""
    return anniversary_digest.enqueue(day.isoformat())


@task()
def reseal_custom_field(key: str) -> int:
    """Write the stored values of custom field ``key`` again, encrypted or in clear as it is now marked."""
    from kith.core.keys import reseal_json_key
    from kith.parties.models import Customer

    return reseal_json_key(Customer, "custom_data", key)
