"""Per-account security state kept beside the user: first-login password change, failed logins, lockout,
and the sessions each account holds (so that disabling it can end them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountSecurity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_security", primary_key=True
    )
    must_change_password = models.BooleanField(_("must change password"), default=False)
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)
    failed_logins = models.PositiveIntegerField(_("failed logins"), default=0)
    failed_since = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("account security")
        verbose_name_plural = _("account security")

    def __str__(self) -> str:
        return f"account security of user {self.user_id}"


class AddressLockout(models.Model):
    """Failed logins from one network address, whatever account they tried."""

    address = models.GenericIPAddressField(unique=True)
    failed_logins = models.PositiveIntegerField(default=0)
    failed_since = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("address lockout")
        verbose_name_plural = _("address lockouts")

    def __str__(self) -> str:
        return self.address


class UserSession(models.Model):
    """A session an account signed in with; the session framework has no user-to-session index."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user"], name="accounts_session_user")]

    def __str__(self) -> str:
        return f"session of user {self.user_id}"
