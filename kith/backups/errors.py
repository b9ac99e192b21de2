"""Error of the backup domain: a backup cannot be made, read, verified or restored."""

from __future__ import annotations

from kith.core.errors import DomainError


class BackupError(DomainError):
    code = "backup_error"
