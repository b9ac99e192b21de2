"""Keep the account's session index in step with sign-in and sign-out."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kith.accounts import services


def remember_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    services.session_remember(user=user, request=request)


def forget_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        services.session_forget(session_key=request.session.session_key)


def settings_changed(sender: Any, setting: str, **kwargs: Any) -> None:
    if setting == "KITH_RATE_LIMITS":
        from kith.accounts import ratelimit

        ratelimit.rates.cache_clear()
