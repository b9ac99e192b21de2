"""Reads on accounts: the users admin list, lockout and two-factor state, stale accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kith.accounts.models import AccountSecurity, AddressLockout
from kith.security import rules

User = get_user_model()


def _annotated(queryset: QuerySet[Any]) -> QuerySet[Any]:
    now = timezone.now()
    return queryset.annotate(
        has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        is_locked=Exists(AccountSecurity.objects.filter(user=OuterRef("pk"), locked_until__gt=now)),
        must_change_password=Exists(
            AccountSecurity.objects.filter(user=OuterRef("pk"), must_change_password=True)
        ),
    )


def user_list(*, user: Any, query: str = "") -> QuerySet[Any]:
    rules.require_permission(user, "user", rules.ADMINISTER)
    queryset = User.objects.all()
    if query:
        queryset = queryset.filter(
            Q(username__icontains=query) | Q(display_name__icontains=query) | Q(email__icontains=query)
        )
    return _annotated(queryset).order_by("username")


def stale_users(*, user: Any, days: int) -> QuerySet[Any]:
    """Active accounts with no sign-in for ``days`` days (never signed in: created that long ago)."""
    rules.require_permission(user, "user", rules.ADMINISTER)
    cutoff = timezone.now() - dt.timedelta(days=days)
    queryset = User.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    return _annotated(queryset).order_by("last_login", "username")


def locked_addresses(*, user: Any) -> QuerySet[AddressLockout]:
    rules.require_permission(user, "user", rules.ADMINISTER)
    return AddressLockout.objects.filter(locked_until__gt=timezone.now()).order_by("-locked_until")


def api_tokens(*, user: Any, everyone: bool = False) -> list[Any]:
    """``user``'s API tokens, newest first; with ``everyone`` (administrators) every user's."""
    from kith.security.models import ApiToken

    qs = ApiToken.objects.select_related("user", "created_by")
    if not everyone:
        qs = qs.filter(user=user)
    return list(qs[:500])
