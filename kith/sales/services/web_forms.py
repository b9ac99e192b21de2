"""Web-to-lead forms: their administration, and a public submission (spam checks, then the one lead
service).

Spam protection needs no outside service:

* a honeypot field (``website``) hidden with CSS: people leave it empty, form-filling robots do not;
* a signed start token (``django.core.signing``) put in the form when the page is shown: a submission
  faster than ``KITH_WEB_FORM_MIN_SECONDS`` (3) after it, older than ``KITH_WEB_FORM_MAX_AGE`` (a day), with
  a token of another form or a forged one is refused. The token also stands in for the session CSRF token,
  which a page framed on a third-party site cannot rely on. Each token is good for one submission: it
  carries a random nonce, claimed with ``cache.add`` (atomic; Redis when configured, so all app servers
  share it) for the token's lifetime when a submission gets past the checks, and given back when the lead
  is not made after all (a field error: the visitor corrects the form and sends the same token again);
  a replayed token is refused like other spam;
* a rate limit per client address and form (``kith.accounts.ratelimit``, scope ``webform``: ten
  submissions per ten minutes unless ``KITH_RATE_LIMITS`` says ``webform=N/seconds``), counted in
  Django's cache (Redis when configured, so all app servers count together);
* when the form lists allowed sites, the ``Origin`` (else ``Referer``) must be one of them or Kith itself.

A refused submission is counted in ``rejected`` and answered like an accepted one (a robot learns nothing);
only real field errors (no name, a bad email address) are shown, on their fields.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.accounts import ratelimit
from kith.audit.capture import suppressed
from kith.core.errors import ConflictError
from kith.parties.models import Category
from kith.sales.choices import LEAD
from kith.sales.models import Lead, WebForm
from kith.sales.services.leads import active_user, lead_create
from kith.security.rules import ADMINISTER, require_permission

HONEYPOT = "website"
START_FIELD = "kith_started"
_SALT = "kith.sales.web_form"
# the lead fields a public form offers
PUBLIC_FIELDS = (
    "given_name",
    "family_name",
    "company",
    "title",
    "email",
    "phone",
    "territory",
    "description",
)
FORM_FIELDS = (
    "name",
    "is_active",
    "title",
    "thank_you",
    "redirect_url",
    "allowed_origins",
    "category",
    "owner",
)


def min_seconds() -> float:
    return float(getattr(settings, "KITH_WEB_FORM_MIN_SECONDS", 3))


def max_age() -> float:
    return float(getattr(settings, "KITH_WEB_FORM_MAX_AGE", 24 * 3600))


# --- administration ------------------------------------------------------------------------------


def _require(actor: Any) -> None:
    if actor is not None:
        require_permission(actor, LEAD, ADMINISTER)


_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


def origins_of(text: str) -> list[str]:
    """The origins listed one per line (scheme://host[:port], lower case, no path)."""
    found = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = urlsplit(line)
        try:
            host, port = parts.hostname or "", parts.port
        except ValueError:  # a port that is no number
            continue
        # only a host name or address: the origin goes into a Content-Security-Policy header, where a
        # ";" or a space would start another directive
        if parts.scheme in ("http", "https") and _HOST.fullmatch(host):
            found.append(f"{parts.scheme}://{host}{f':{port}' if port else ''}")
    return found


def _clean(data: dict[str, Any], *, base: WebForm | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    wanted = [f for f in FORM_FIELDS if base is None or f in data]
    for field, limit in (("name", 100), ("title", 200), ("thank_you", 300)):
        if field in wanted:
            values[field] = str(data.get(field) or "").strip()
            if len(values[field]) > limit:
                errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
    if "name" in values and not values["name"]:
        errors["name"] = [_("Give the form a name.")]
    if "is_active" in wanted:
        values["is_active"] = bool(data.get("is_active", True))
    if "redirect_url" in wanted:
        url = str(data.get("redirect_url") or "").strip()
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 200):
            errors["redirect_url"] = [_("Enter a full web address starting with https://.")]
        values["redirect_url"] = url
    if "allowed_origins" in wanted:
        text = str(data.get("allowed_origins") or "")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        bad = [
            line
            for line in lines
            if urlsplit(line).scheme not in ("http", "https")
            or not urlsplit(line).netloc
            or urlsplit(line).path not in ("", "/")
            or any(ch in line for ch in " ;'\"")
        ]
        if bad:
            errors["allowed_origins"] = [
                _("Not a site address (such as https://www.example.com): %(lines)s")
                % {"lines": ", ".join(bad[:3])}
            ]
        values["allowed_origins"] = "\n".join(origins_of(text)) if not bad else text
    if "category" in wanted:
        category = data.get("category")
        if category in (None, ""):
            values["category"] = None
        elif isinstance(category, Category):
            values["category"] = category
        else:
            found = Category.objects.filter(pk=int(category)).first() if str(category).isdigit() else None
            if found is None:
                errors["category"] = [_("There is no such category.")]
            values["category"] = found
    if "owner" in wanted:
        values["owner"] = active_user(data.get("owner"), "owner", errors)
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def web_form_create(*, actor: Any, data: dict[str, Any]) -> WebForm:
    _require(actor)
    return WebForm.objects.create(**_clean(data, base=None))


@transaction.atomic
def web_form_update(
    *, actor: Any, web_form: WebForm, data: dict[str, Any], expected_version: int | None = None
) -> WebForm:
    _require(actor)
    values = _clean(data, base=web_form)
    version = web_form.version if expected_version is None else int(expected_version)
    now = timezone.now()
    if not WebForm.objects.filter(pk=web_form.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    ):
        raise ConflictError()
    for field, value in values.items():
        setattr(web_form, field, value)
    web_form.version, web_form.updated_at = version + 1, now
    return web_form


@transaction.atomic
def web_form_delete(*, actor: Any, web_form: WebForm) -> None:
    """Delete the form; its leads stay (they forget the form)."""
    _require(actor)
    web_form.delete()


# --- public submission ---------------------------------------------------------------------------


def start_token(web_form: WebForm, *, now: float | None = None) -> str:
    """The signed token of a page shown now (the form's key, the time and a random nonce: two pages shown
    in the same second get different tokens, each good for one submission)."""
    return signing.dumps(
        {
            "k": web_form.key,
            "t": int(now if now is not None else time.time()),
            "n": secrets.token_urlsafe(12),
        },
        salt=_SALT,
    )


def _nonce_key(web_form: WebForm, token: str) -> str:
    """The cache key that records a token as used: its nonce (a token made before nonces existed: a digest
    of the whole token, which the signature makes unique to its payload)."""
    try:
        payload = signing.loads(token or "", salt=_SALT)
    except signing.BadSignature:
        payload = None
    nonce = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(nonce, str) or not nonce or len(nonce) > 64:
        nonce = hashlib.sha256(token.encode()).hexdigest()
    return f"{_SALT}.used.{web_form.pk}.{nonce}"


def _claim_token(web_form: WebForm, token: str) -> str | None:
    """Record the token as used (atomic: of two submissions with it at once, one wins); the key, or None
    when it was used already. Kept as long as the token could be accepted (its lifetime, and a minute)."""
    key = _nonce_key(web_form, token)
    return key if cache.add(key, 1, timeout=int(max_age()) + 60) else None


@dataclass
class Submission:
    accepted: bool
    lead: Lead | None = None
    reason: str = ""  # why it was refused (for the log and tests; never shown)


def _token_refusal(web_form: WebForm, token: str, now: float) -> str:
    try:
        payload = signing.loads(token or "", salt=_SALT)
    except signing.BadSignature:
        return "token"
    if (
        not isinstance(payload, dict)
        or payload.get("k") != web_form.key
        or not isinstance(payload.get("t"), int)
    ):
        return "token"
    age = now - payload["t"]
    if age < min_seconds():
        return "too_fast"
    if age > max_age():
        return "expired"
    return ""


def _origin_refusal(web_form: WebForm, origin: str, referer: str, own_origin: str) -> str:
    allowed = origins_of(web_form.allowed_origins)
    if not allowed:
        return ""
    allowed.append(own_origin.lower())  # the form page itself (in the frame) posts from Kith's origin
    seen = (origin or "").strip().lower()
    if not seen or seen == "null":
        parts = urlsplit(referer or "")
        seen = f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""
    return "" if seen in allowed else "origin"


def _rate_refusal(web_form: WebForm, client: str) -> str:
    return "rate" if ratelimit.hit(ratelimit.WEB_FORM, f"{web_form.pk}:{client or '-'}") else ""


def _count(web_form: WebForm, field: str) -> None:
    # a counter, not an edit of the form: not audited (a flood of robots must not flood the trail)
    with suppressed():
        WebForm.objects.filter(pk=web_form.pk).update(**{field: F(field) + 1})


def refusal(
    web_form: WebForm,
    *,
    data: dict[str, Any],
    client: str,
    origin: str = "",
    referer: str = "",
    own_origin: str = "",
    now: float | None = None,
) -> str:
    """Why a submission is refused ("" when it is not): the form switched off, rate, honeypot, token
    (forged, too fast, too old), origin. Every submission counts towards the address's rate."""
    now = time.time() if now is None else now
    return (
        ("inactive" if not web_form.is_active else "")
        or _rate_refusal(web_form, client)
        or ("honeypot" if str(data.get(HONEYPOT) or "").strip() else "")
        or _token_refusal(web_form, str(data.get(START_FIELD) or ""), now)
        or _origin_refusal(web_form, origin, referer, own_origin)
    )


def web_form_submit(
    *,
    web_form: WebForm,
    data: dict[str, Any],
    client: str,
    origin: str = "",
    referer: str = "",
    own_origin: str = "",
    now: float | None = None,
) -> Submission:
    """A public submission: refused as spam (counted, nothing else written; a token used before is
    refused as ``replay``), or a lead made by the lead service (source web form; owner: the form's, else
    the assignment rules). Field errors raise a ``ValidationError`` (not counted: a person mistyped; the
    token stays usable)."""
    reason = refusal(
        web_form, data=data, client=client, origin=origin, referer=referer, own_origin=own_origin, now=now
    )
    claimed = None
    if not reason:
        claimed = _claim_token(web_form, str(data.get(START_FIELD) or ""))
        reason = "" if claimed else "replay"
    if reason:
        _count(web_form, "rejected")
        return Submission(accepted=False, reason=reason)
    try:
        with transaction.atomic():
            lead = lead_create(
                actor=None, data={f: data.get(f, "") for f in PUBLIC_FIELDS}, web_form=web_form
            )
            _count(web_form, "submissions")
    except BaseException:
        # no lead was made (a field error, most likely): the token may be sent again, corrected
        cache.delete(claimed)
        raise
    return Submission(accepted=True, lead=lead)
