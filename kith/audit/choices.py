"""The audit trail's vocabulary: where a change came from, what happened, what was accessed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    WEB = "web", _("web")
    API = "api", _("API")
    IMPORT = "import", _("import")
    JOB = "job", _("background job")
    PORTAL = "portal", _("portal")
    CLI = "cli", _("command line")
    SYSTEM = "system", _("system")
    WEBHOOK = "webhook", _("webhook")  # data sent to another system's URL (kith.webhooks)


class Action(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    LOGIN = "login", _("signed in")
    LOGIN_FAILED = "login_failed", _("failed sign-in")
    LOGOUT = "logout", _("signed out")
    VIEW_SENSITIVE = "view_sensitive", _("viewed sensitive data")
    EXPORT = "export", _("exported")
    IMPORT = "import", _("imported")
    RESTORE = "restore", _("restored")
    PERMISSION_CHANGE = "permission_change", _("permissions changed")
    BULK_LOAD = "bulk_load", _("bulk load")
    KEY_ROTATION = "key_rotation", _("encryption keys rotated")
    MERGE = "merge", _("merged")


class AccessKind(models.TextChoices):
    VIEW = "view", _("viewed a customer")
    SEARCH = "search", _("searched")
    EXPORT = "export", _("exported")


class AlertKind(models.TextChoices):
    """What a daily threshold counts, per user: customer pages opened, customers listed by searches,
    rows exported."""

    VIEWS = "views", _("customers viewed")
    SEARCH = "search", _("customers listed by searches")
    EXPORT = "export", _("rows exported")


# The value recorded instead of a secret (password hash, token, TOTP key): only the fact that it changed.
CHANGED = "(changed)"
