"""Users, the organisation (teams and the manager chain), roles with their permission matrix, visibility
defaults and shares. The rules that read them live in ``kith.security.selectors`` and ``rules``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A department or team; teams nest (Sales > North > Beijing)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A named set of permissions (object type × action) plus what comes with it."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9_-]*$", _("Use lower-case letters, digits, - and _."))],
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # ["customer.view", "customer.edit", ...]
    permissions = models.JSONField(_("permissions"), default=list, blank=True)
    require_two_factor = models.BooleanField(_("requires two-factor authentication"), default=False)
    sensitive_clearance = models.BooleanField(
        _("sees sensitive fields"),
        default=False,
        help_text=_("Holders see sensitive fields unmasked without asking for access."),
    )
    is_default = models.BooleanField(
        _("given to new users"), default=False, help_text=_("New users receive this role.")
    )
    sees_all = models.BooleanField(
        _("reads every record"),
        default=False,
        help_text=_("Holders read every record of the types they may view, whoever owns it (auditors)."),
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    manager = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")

    class Meta:
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Reach(models.Model):
    """``manager`` sees what ``member`` owns: the manager chain's closure (every user reaches themself at
    depth 0, their direct reports at 1, ...). Kept by ``kith.security.services`` when the chain changes."""

    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manager", "member"], name="reach_unique")]
        indexes = [models.Index(fields=["member", "depth"], name="reach_member_idx")]
        verbose_name = _("hierarchy reach")
        verbose_name_plural = _("hierarchy reach")

    def __str__(self) -> str:
        return f"{self.manager_id} -> {self.member_id} ({self.depth})"


class Access(models.TextChoices):
    PRIVATE = "private", _("private (owner, their managers and shares)")
    READ = "read", _("everyone reads")
    READ_WRITE = "read_write", _("everyone reads and writes")


class VisibilityDefault(models.Model):
    """The organisation-wide default per object type; types without a row are private."""

    object_type = models.CharField(_("object type"), max_length=50, unique=True)
    access = models.CharField(_("access"), max_length=20, choices=Access.choices, default=Access.PRIVATE)

    class Meta:
        verbose_name = _("visibility default")
        verbose_name_plural = _("visibility defaults")

    def __str__(self) -> str:
        return f"{self.object_type}: {self.get_access_display()}"


class ShareAccess(models.TextChoices):
    READ = "read", _("read")
    WRITE = "write", _("read and write")


class Share(models.Model):
    """One record shared with one user or one team (its members)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    access = models.CharField(
        _("access"), max_length=10, choices=ShareAccess.choices, default=ShareAccess.READ
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, team__isnull=True))
                | (models.Q(user__isnull=True, team__isnull=False)),
                name="share_one_grantee",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"],
                condition=models.Q(user__isnull=False),
                name="share_user_unique",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "team"],
                condition=models.Q(team__isnull=False),
                name="share_team_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "content_type", "object_id"], name="share_user_idx"),
            models.Index(fields=["team", "content_type", "object_id"], name="share_team_idx"),
            models.Index(fields=["content_type", "object_id"], name="share_object_idx"),
        ]
        verbose_name = _("share")
        verbose_name_plural = _("shares")

    def __str__(self) -> str:
        grantee = (self.user_id and f"user {self.user_id}") or f"team {self.team_id}"
        return f"{self.content_type_id}:{self.object_id} -> {grantee} ({self.access})"


class Generation(models.Model):
    """One row: a counter moved on by every change to who may see or do what (see ``selectors``)."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("security generation")

    def __str__(self) -> str:
        return str(self.value)


# --- field-level security and access requests (``kith.security.masking``, ``access_requests``) -------
class FieldAccess(models.TextChoices):
    HIDDEN = "hidden", _("hidden")
    READ = "read", _("read-only")
    EDIT = "edit", _("editable")


class FieldRule(models.Model):
    """What one role may do with one field of an object type; a role without a rule for a field edits it.
    A user's access to a field is the most permissive of their roles' (``masking.field_access``)."""

    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.CASCADE, related_name="field_rules"
    )
    object_type = models.CharField(_("object type"), max_length=50)
    # a model field ("birth_date"), a contact list ("phones") or a custom field ("custom.<key>")
    field = models.CharField(_("field"), max_length=100)
    access = models.CharField(
        _("access"), max_length=10, choices=FieldAccess.choices, default=FieldAccess.EDIT
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["role", "object_type", "field"], name="field_rule_unique"),
        ]
        verbose_name = _("field rule")
        verbose_name_plural = _("field rules")

    def __str__(self) -> str:
        return f"{self.role_id} {self.object_type}.{self.field}: {self.access}"


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    EXPIRED = "expired", _("expired")
    WITHDRAWN = "withdrawn", _("withdrawn")


class AccessRequest(models.Model):
    """A user without clearance asks to see one record's sensitive fields for a stated purpose. An approval
    grants it until ``expires_at`` (``KITH_ACCESS_GRANT_HOURS``), for that record only."""

    requester = models.ForeignKey(
        User, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="access_requests"
    )
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.BigIntegerField(_("object id"))
    # the record's stable key (customer number) and name when asked: for links and lists
    object_key = models.CharField(_("record"), max_length=60)
    object_label = models.CharField(_("record name"), max_length=200, blank=True)
    purpose = models.TextField(_("purpose"))
    fields = models.JSONField(
        _("fields"), default=list, blank=True, help_text=_("Empty: every sensitive field.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    approver = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="access_decisions",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.CharField(_("comment"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("access until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["requester", "object_type", "object_id", "status"], name="access_request_grant_idx"
            ),
            models.Index(fields=["status", "created_at"], name="access_request_status_idx"),
        ]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.requester_id} -> {self.object_type} {self.object_key} ({self.status})"


class ApiTokenKind(models.TextChoices):
    PERSONAL = "personal", _("personal")
    SERVICE = "service", _("service")


class ApiToken(models.Model):
    """A key for the API, acting as its user, narrowed to ``scopes`` (``<area>:read`` / ``<area>:write``)
    and valid until ``expires_at``. Only the SHA-256 of the key is stored: the key is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=10, choices=ApiTokenKind.choices, default=ApiTokenKind.PERSONAL
    )
    prefix = models.CharField(_("key starts with"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
