"""The account-protection settings with their defaults, and the client's network address."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest


def lockout_failures() -> int:
    return int(getattr(settings, "KITH_LOCKOUT_FAILURES", 5))


def lockout_address_failures() -> int:
    return int(getattr(settings, "KITH_LOCKOUT_ADDRESS_FAILURES", lockout_failures()))


def lockout_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "KITH_LOCKOUT_WINDOW_MINUTES", 15)))


def lockout_duration() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "KITH_LOCKOUT_MINUTES", 15)))


def idle_timeout_seconds() -> int:
    return int(getattr(settings, "KITH_IDLE_TIMEOUT_MINUTES", 30)) * 60


def client_address(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR, or behind ``KITH_TRUSTED_PROXIES`` reverse proxies the address the outermost one saw."""
    if request is None:
        return None
    proxies = int(getattr(settings, "KITH_TRUSTED_PROXIES", 0))
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
