"""API token authentication with a short-lived cache of the token's user.

A token check is one query per API request; at a thousand requests a second that query is a large
share of the work. The user behind a token is cached for ``TOKEN_CACHE_SECONDS`` (in Redis when
``REDIS_URL`` is set, so every app server sees the same entries) and the entry is deleted as soon as the
token is deleted or its user is saved (deactivated, password changed ...). With the default per-process
local-memory cache another app-server process may keep answering for at most ``TOKEN_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from kith.security import tokens

TOKEN_CACHE_SECONDS = 30


def _cache_key(key: str) -> str:
    return "kith:token:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if key.startswith(tokens.KEY_PREFIX):  # a scoped API token sent as "Token kith_..."
            return _api_token(key)
        cache_key = _cache_key(key)
        cached = cache.get(cache_key)
        if cached is not None:
            return cached
        user, token = super().authenticate_credentials(key)
        if not user.is_active:  # DRF checks this too; never cache a refusal's subject
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        cache.set(cache_key, (user, token), TOKEN_CACHE_SECONDS)
        return user, token


def _api_token(key: str) -> tuple[Any, Any]:
    found = tokens.authenticate_key(key)
    if found is None:
        raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
    return found


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer kith_...``: the personal and service tokens of ``kith.security.tokens``."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        return _api_token(key)

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


def forget_token(sender: Any, instance: Token, **kwargs: Any) -> None:
    cache.delete(_cache_key(instance.key))


def forget_user_tokens(sender: Any, instance: Any, **kwargs: Any) -> None:
    tokens.forget_user(instance)
    keys = list(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))
    if keys:
        cache.delete_many([_cache_key(k) for k in keys])


def connect_signals(user_model: Any) -> None:
    post_delete.connect(forget_token, sender=Token, dispatch_uid="kith.security.forget_token")
    post_save.connect(forget_token, sender=Token, dispatch_uid="kith.security.forget_token_saved")
    post_save.connect(forget_user_tokens, sender=user_model, dispatch_uid="kith.security.forget_user_tokens")
