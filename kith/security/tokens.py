"""API tokens: personal (a user's own) and service (an administrator's, for an integration account).

A token acts as its user, so roles, visibility and masking apply as on the web, and it is further narrowed
to its *scopes*: ``<area>:read`` for GET/HEAD/OPTIONS and ``<area>:write`` for the rest, where the area is
the app whose API answers (``customers`` for ``kith.parties``, ``audit`` ...). Keys are
``kith_<random>``; only their SHA-256 is stored and the key is shown once. Every token expires (at most a
year ahead), can be revoked at once, and its creation and revocation are audited (the security app is).
Users whose role requires two-factor authentication get their tokens here, after signing in with both
factors: the password-for-token API endpoint refuses them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.security.models import ApiToken, ApiTokenKind

KEY_PREFIX = "kith_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
CACHE_SECONDS = 30
USE_RECORD_SECONDS = 300  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class Area:
    code: str
    label: Promise | str
    app: str  # the Django app whose API views belong to it


AREAS: dict[str, Area] = {
    a.code: a
    for a in (
        Area("customers", gettext_lazy("Customers and their records"), "parties"),
        Area("audit", gettext_lazy("Audit trail and access statistics"), "audit"),
        Area("privacy", gettext_lazy("Privacy: consents, exports, erasure"), "privacy"),
        Area("access", gettext_lazy("Access control: roles, teams, access requests"), "security"),
        Area("jobs", gettext_lazy("Background jobs: progress, results and files"), "jobs"),
        Area("webhooks", gettext_lazy("Webhooks: receivers, deliveries, test events"), "webhooks"),
        Area(
            "sales",
            gettext_lazy(
                "Sales: products, prices, leads, deals, quotes, orders, contracts, invoices, consumption"
            ),
            "sales",
        ),
    )
}
_BY_APP = {a.app: a.code for a in AREAS.values()}
SCOPES = [f"{code}:{level}" for code in AREAS for level in ("read", "write")]


def scope_choices() -> list[tuple[str, str]]:
    return [
        (f"{a.code}:{level}", f"{a.label}: {_('read') if level == 'read' else _('write')}")
        for a in AREAS.values()
        for level in ("read", "write")
    ]


def area_of_view(view: Any) -> str | None:
    """The area of an API view: the one it names (``token_area = "access"``: a customer's shares are
    access control, though the customers' app answers), else the app it is defined in (``kith.<app>.api``)."""
    named = getattr(view, "token_area", None)
    if named is not None:
        return named if named in AREAS else None
    parts = type(view).__module__.split(".")
    return _BY_APP.get(parts[1]) if len(parts) > 2 and parts[0] == "kith" else None


def needed_scope(view: Any, method: str) -> str | None:
    """``<area>:read`` for GET/HEAD/OPTIONS, else ``<area>:write``, unless the view names the level of a
    method (``token_levels = {"POST": "read"}``: an export is asked for with a POST but only reads)."""
    area = area_of_view(view)
    if area is None:
        return None
    level = getattr(view, "token_levels", {}).get(method)
    return f"{area}:{level or ('read' if method in ('GET', 'HEAD', 'OPTIONS') else 'write')}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _cache_key(key_hash: str) -> str:
    return f"kith:apitoken:{key_hash}"


def _clean(data: dict[str, Any]) -> tuple[str, list[str], dt.datetime]:
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Give the token a name (what uses it).")]
    elif len(name) > 100:
        errors["name"] = [_("At most 100 characters.")]
    raw_scopes = data.get("scopes") or []
    scopes = sorted({str(s) for s in (raw_scopes if isinstance(raw_scopes, list | tuple) else [raw_scopes])})
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        errors["scopes"] = [_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}]
    elif not scopes:
        errors["scopes"] = [_("Choose at least one scope.")]
    days = data.get("days", DEFAULT_DAYS)
    try:
        days = int(days)
        if not 1 <= days <= MAX_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        errors["days"] = [_("Between 1 and %(max)d days.") % {"max": MAX_DAYS}]
        days = DEFAULT_DAYS
    if errors:
        raise ValidationError(errors)
    return name, scopes, timezone.now() + dt.timedelta(days=days)


@transaction.atomic
def create_token(*, actor: Any, data: dict[str, Any], user: Any = None) -> tuple[ApiToken, str]:
    """A new token and its key (shown once). Without ``user``: a personal token of ``actor``. With
    ``user`` (another account): a service token, which needs ("security", "administer")."""
    from kith.security.rules import require_permission

    owner = actor if user is None or user.pk == actor.pk else user
    kind = ApiTokenKind.PERSONAL if owner.pk == actor.pk else ApiTokenKind.SERVICE
    if kind == ApiTokenKind.SERVICE:
        require_permission(actor, "security", "administer")
    if not owner.is_active:
        raise ValidationError({"user": [_("This account is disabled.")]})
    name, scopes, expires_at = _clean(data)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=owner,
        name=name,
        kind=kind,
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=digest(key),
        scopes=scopes,
        expires_at=expires_at,
        created_by=actor,
    )
    return token, key


@transaction.atomic
def revoke_token(*, actor: Any, token: ApiToken) -> ApiToken:
    """Revoke at once (the cached check is forgotten too). A user revokes their own tokens; any other
    needs ("security", "administer")."""
    from kith.security.rules import has_permission

    if token.user_id != actor.pk and not has_permission(actor, "security", "administer"):
        raise PermissionDenied(_("You may only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    transaction.on_commit(lambda: cache.delete(_cache_key(token.key_hash)))
    cache.delete(_cache_key(token.key_hash))
    return token


def authenticate_key(key: str) -> tuple[Any, ApiToken] | None:
    """(user, token) for a valid key, else None (unknown, revoked, expired, or its user disabled)."""
    key_hash = digest(key)
    found = cache.get(_cache_key(key_hash))
    if found is None:
        token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
        if token is None:
            return None
        found = (token.user, token)
        cache.set(_cache_key(key_hash), found, CACHE_SECONDS)
    user, token = found
    now = timezone.now()
    if token.revoked_at is not None or token.expires_at <= now or not user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > USE_RECORD_SECONDS:
        # a plain UPDATE: noting the use is not a change of the token (not audited, no signal)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        cache.set(_cache_key(key_hash), (user, token), CACHE_SECONDS)
    return user, token


def forget_user(user: Any) -> None:
    """A user saved (disabled, password changed ...): their cached tokens are checked again."""
    hashes = list(ApiToken.objects.filter(user_id=user.pk).values_list("key_hash", flat=True))
    if hashes:
        cache.delete_many([_cache_key(h) for h in hashes])


def check_scope(request: Any, view: Any) -> None:
    """Refuse an API request made with a token whose scopes do not cover the view's area and method."""
    from rest_framework import exceptions

    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):
        return
    scope = needed_scope(view, request.method)
    if scope is None or scope not in token.scopes:
        raise exceptions.PermissionDenied(
            _("This token's scopes do not allow this request (it needs %(scope)s).")
            % {"scope": scope or _("a scope this endpoint does not offer")}
        )
