"""Backups started from the web page run as background jobs; the newest job is remembered for its status."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks.base import TaskResultStatus

from kith.backups.errors import BackupError
from kith.backups.services.backups import MANUAL
from kith.core.settings_store import set_setting
from kith.security.rules import ADMINISTER, require_permission

LAST_JOB_KEY = "backups.last_job"
UNFINISHED = {TaskResultStatus.READY, TaskResultStatus.RUNNING}


def start_backup_job(*, actor: Any) -> str:
    """Queue a backup (made, verified) for the worker; refuse while the previous one has not finished."""
    from kith.backups.selectors import last_job
    from kith.backups.tasks import backup_now

    require_permission(actor, "backup", ADMINISTER)
    with transaction.atomic():
        previous = last_job()
        if previous is not None and previous.status in UNFINISHED:
            raise BackupError(_("A backup is already queued or running; wait until it has finished."))
        result = backup_now.enqueue(MANUAL)
        set_setting(LAST_JOB_KEY, str(result.id))
    return str(result.id)
