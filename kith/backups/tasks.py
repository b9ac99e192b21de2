"""Background entry points of the backup domain (thin: the work is in the services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django_tasks import task

from kith.backups.services import backups


@task()
def backup_now(kind: str = backups.MANUAL) -> dict[str, Any]:
    """Back up, verify the new backup and, for the daily backups, keep only the newest ``KITH_BACKUP_KEEP``."""
    keep = settings.KITH_BACKUP_KEEP if kind == backups.SCHEDULED else None
    return backups.run_backup(kind=kind, encrypt=settings.KITH_BACKUP_ENCRYPT, verify=True, keep=keep)


def enqueue_daily_backup(day: dt.date) -> object:
    return backup_now.enqueue(backups.SCHEDULED)
