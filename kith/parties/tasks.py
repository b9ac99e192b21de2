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
