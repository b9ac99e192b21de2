"""Reads of the backup domain: the backups in the backup folder, newest first."""

from __future__ import annotations

from typing import Any

from django_tasks.base import TaskResult
from django_tasks.exceptions import TaskResultDoesNotExist

from kith.backups.errors import BackupError
from kith.backups.services.backups import Backup, backup_dir, read_manifest
from kith.backups.services.jobs import LAST_JOB_KEY
from kith.core.settings_store import get_setting


def backup_list() -> list[Backup]:
    """Every backup with a readable manifest in the backup folder, newest first."""
    folder = backup_dir()
    if not folder.is_dir():
        return []
    found = []
    for manifest_file in folder.glob("*.json"):
        path = manifest_file.with_name(manifest_file.name.removesuffix(".json"))
        try:
            manifest = read_manifest(path)
        except BackupError:
            continue
        if manifest is None or "created_at" not in manifest:
            continue
        found.append(Backup(path=path, manifest=manifest))
    found.sort(key=lambda backup: (str(backup.manifest["created_at"]), backup.path.name), reverse=True)
    return found


def last_job() -> TaskResult[Any] | None:
    """The newest backup job started from the web page (its status, errors and return value), if any."""
    from kith.backups.tasks import backup_now

    result_id = get_setting(LAST_JOB_KEY)
    if not result_id:
        return None
    try:
        return backup_now.get_result(str(result_id))
    except TaskResultDoesNotExist:
        return None
