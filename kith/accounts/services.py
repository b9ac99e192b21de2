"""Writes on accounts: creation with a one-time password, password changes, lockout bookkeeping,
two-factor enrolment and reset, disabling (which ends the account's sessions and API tokens)."""

from __future__ import annotations

import secrets
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from kith.accounts import policy
from kith.accounts.models import AccountSecurity, AddressLockout, UserSession
from kith.security import rules

User = get_user_model()

# session keys: the steps still owed after the password was accepted, and the time of the last request
GATES_KEY = "kith_gates"
SEEN_KEY = "kith_seen"
GATE_PASSWORD, GATE_VERIFY, GATE_ENROL = "password", "verify", "enrol"
BACKUP_CODE_COUNT = 10
API_LOGIN_REFUSED = gettext_lazy(
    "This account must sign in on the web first (two-factor authentication or a new password is owed)."
)


def _state(user: Any, *, lock: bool = False) -> AccountSecurity:
    queryset = AccountSecurity.objects.select_for_update() if lock else AccountSecurity.objects
    state, _created = queryset.get_or_create(user=user)
    return state


# --- passwords ---------------------------------------------------------------------------------


def password_change_require(*, user: Any) -> None:
    """The account must set a new password at its next sign-in (users created by an administrator)."""
    with transaction.atomic():
        state = _state(user, lock=True)
        state.must_change_password = True
        state.save(update_fields=["must_change_password"])


def password_changed(*, user: Any) -> None:
    """Record that ``user`` set their own password (the form already validated and saved it)."""
    with transaction.atomic():
        state = _state(user, lock=True)
        state.must_change_password = False
        state.password_changed_at = timezone.now()
        state.save(update_fields=["must_change_password", "password_changed_at"])


def user_create(*, actor: Any, data: dict[str, Any]) -> tuple[Any, str]:
    """Create an account with a random one-time password, to be changed at the first sign-in."""
    rules.require_permission(actor, "user", rules.CREATE)
    password = secrets.token_urlsafe(12)
    username = data["username"].strip()
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": [_("A user with that username already exists.")]})
        user = User(
            username=username,
            email=data.get("email", ""),
            display_name=data.get("display_name", ""),
        )
        validate_password(password, user)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        AccountSecurity.objects.create(user=user, must_change_password=True)
    return user, password


# --- lockout -----------------------------------------------------------------------------------


def _locked_until(username: str | None, address: str | None) -> Any:
    now = timezone.now()
    until: list[Any] = []
    if username:
        until += list(
            AccountSecurity.objects.filter(user__username=username, locked_until__gt=now).values_list(
                "locked_until", flat=True
            )
        )
    if address:
        until += list(
            AddressLockout.objects.filter(address=address, locked_until__gt=now).values_list(
                "locked_until", flat=True
            )
        )
    return max(until) if until else None


def login_refusal(*, username: str | None, address: str | None) -> str | None:
    """Why a sign-in must be refused before its password is even checked, or None."""
    until = _locked_until(username, address)
    if until is None:
        return None
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return _(
        "Too many failed sign-ins. This account or address is locked for %(minutes)s more minutes;"
        " an administrator can unlock it."
    ) % {"minutes": minutes}


def _count_failure(row: AccountSecurity | AddressLockout, threshold: int) -> None:
    now = timezone.now()
    if row.failed_since is None or now - row.failed_since > policy.lockout_window():
        row.failed_logins, row.failed_since = 0, now
    row.failed_logins += 1
    if row.failed_logins >= threshold:
        row.locked_until = now + policy.lockout_duration()
        row.failed_logins, row.failed_since = 0, None
    row.save()


def login_failed(*, username: str | None, address: str | None) -> None:
    with transaction.atomic():
        user = User.objects.filter(username=username).first() if username else None
        if user is not None:
            _count_failure(_state(user, lock=True), policy.lockout_failures())
        if address:
            row, _created = AddressLockout.objects.select_for_update().get_or_create(address=address)
            _count_failure(row, policy.lockout_address_failures())


def login_succeeded(*, user: Any) -> None:
    if AccountSecurity.objects.filter(user=user, failed_logins__gt=0).exists():
        with transaction.atomic():
            AccountSecurity.objects.filter(user=user).update(failed_logins=0, failed_since=None)


def account_unlock(*, actor: Any, user: Any) -> None:
    rules.require_permission(actor, "user", rules.ADMINISTER)
    with transaction.atomic():
        AccountSecurity.objects.filter(user=user).update(
            failed_logins=0, failed_since=None, locked_until=None
        )


def address_unlock(*, actor: Any, address: str) -> None:
    rules.require_permission(actor, "user", rules.ADMINISTER)
    with transaction.atomic():
        AddressLockout.objects.filter(address=address).delete()


# --- sessions and disabling ----------------------------------------------------------------------


def session_remember(*, user: Any, request: HttpRequest) -> None:
    key = request.session.session_key
    if not key:
        return
    with transaction.atomic():
        UserSession.objects.update_or_create(session_key=key, defaults={"user": user})


def session_forget(*, session_key: str) -> None:
    with transaction.atomic():
        UserSession.objects.filter(session_key=session_key).delete()


def sessions_end(*, user: Any) -> int:
    """Delete every session of ``user`` from the database and the cache (cached_db keeps both)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


def account_disable(*, actor: Any, user: Any) -> None:
    """Disable the account: its sessions and API tokens stop working at once."""
    rules.require_permission(actor, "user", rules.ADMINISTER)
    if user.pk == getattr(actor, "pk", None):
        raise ValidationError(_("You cannot disable your own account."))
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])  # also forgets the cached token lookups
        Token.objects.filter(user=user).delete()
        sessions_end(user=user)


def account_enable(*, actor: Any, user: Any) -> None:
    rules.require_permission(actor, "user", rules.ADMINISTER)
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        AccountSecurity.objects.filter(user=user).update(
            failed_logins=0, failed_since=None, locked_until=None
        )


# --- two-factor authentication -------------------------------------------------------------------


def has_two_factor(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def login_gates(*, user: Any) -> list[str]:
    """The steps a user still owes after their password was accepted, in order."""
    # the second factor comes first: a stolen password alone must not be enough to set a new one
    enrolled = has_two_factor(user)
    gates = [GATE_VERIFY] if enrolled else []
    if AccountSecurity.objects.filter(user=user, must_change_password=True).exists():
        gates.append(GATE_PASSWORD)
    if not enrolled and rules.two_factor_required(user):
        gates.append(GATE_ENROL)
    return gates


def gate_passed(*, request: HttpRequest, gate: str) -> None:
    gates = [g for g in request.session.get(GATES_KEY, []) if g != gate]
    if gates:
        request.session[GATES_KEY] = gates
    else:
        request.session.pop(GATES_KEY, None)


def totp_device_pending(*, user: Any) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per user, kept until confirmed)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def backup_codes_new(*, user: Any) -> list[str]:
    """Replace the account's backup codes with fresh ones (each works once)."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name="backup", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_confirm(*, user: Any, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the authenticator with a code it shows; returns the new backup codes."""
    token = "".join(token.split())
    with transaction.atomic():
        if not device.verify_token(token):
            raise ValidationError({"token": [_("That code is not right. Enter the current 6-digit code.")]})
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save()
        return backup_codes_new(user=user)


def otp_verify(*, user: Any, token: str) -> Any:
    """The device (authenticator or backup code) that accepts ``token``, or None."""
    token = "".join(token.split())
    if not token:
        return None
    # six digits are an authenticator code, anything else a backup code: a wrong guess then slows down
    # (throttles) only the device it was meant for
    model: type[TOTPDevice] | type[StaticDevice] = (
        TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    )
    with transaction.atomic():
        for device in model.objects.filter(user=user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None


def two_factor_reset(*, actor: Any, user: Any) -> None:
    """Remove the account's authenticator and backup codes (a lost phone) and end its sessions."""
    rules.require_permission(actor, "user", rules.ADMINISTER)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        sessions_end(user=user)
