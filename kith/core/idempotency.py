"""Idempotency keys on API POSTs: a client that repeats a request (a timeout, a lost answer) gets the first
answer again instead of a second customer.

A POST sent with ``Idempotency-Key: <1-255 visible ASCII characters>`` is remembered for a day, per caller
(the API token, else the user), path and key, with the SHA-256 of its body as parsed (for JSON: the same
values whatever the key order and spacing). The remembered row is written in its own transaction before the
view runs, so a repeat that arrives meanwhile sees it:

* the same key and body again: the stored response (status, body, content type, ``Location``) with
  ``Idempotent-Replayed: true``; the view does not run again;
* the same key with another body: 422 ``idempotency_key_reused``;
* the same key while the first request is still being processed: 409 ``idempotency_key_in_progress``.

Every response below 500 is kept (a 400 too: the same request would get the same answer); a 5xx, or an
error that escapes the view, forgets the key so the client can try again. The response is encrypted at rest
(it may hold personal data); rows older than a day are ignored and deleted when their caller next sends a
key (and by :func:`purge_expired`). A row left "in progress" by a process that died is given up after
``ABANDONED_AFTER``.

This relies on Django's default autocommit between views (``ATOMIC_REQUESTS`` is off): the in-progress
row is committed before the view runs and completed after its transaction has ended.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.request import Request

from kith.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME = dt.timedelta(hours=24)
ABANDONED_AFTER = dt.timedelta(minutes=15)
KEPT_HEADERS = ("Location",)
METHODS = frozenset({"POST"})
_META = "HTTP_IDEMPOTENCY_KEY"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_MAX_PATH = IdempotencyKey._meta.get_field("path").max_length or 1000

PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Optional; 1 to 255 visible ASCII characters (a UUID, say). Repeating the request with the same key "
        "within 24 hours returns the first response again (with the header Idempotent-Replayed: true) "
        "instead of acting twice. The same key with another body is a 422 (idempotency_key_reused); while "
        "the first request is still being processed, a 409 (idempotency_key_in_progress)."
    ),
)


class KeyRefused(exceptions.APIException):
    """A key that cannot be used for this request: 422 (another body) or 409 (still in progress)."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message, code)
        self.status_code = status_code
        self.error_code = code

    def payload(self) -> dict[str, Any]:
        return {"code": self.error_code, "detail": str(self.detail), "errors": {HEADER: [str(self.detail)]}}


class Replay(Exception):  # not an error: the way out of the view with the stored response
    """Raised before the view runs when the request was answered already; carries the stored response."""

    def __init__(self, response: HttpResponseBase) -> None:
        super().__init__("replayed")
        self.response = response


def owner_of(request: Request) -> str | None:
    """Whose keys these are: the API token's (each integration its own), else the signed-in user's."""
    from kith.security.models import ApiToken

    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    user = request.user
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"
    return None


def _file_digest(upload: Any) -> dict[str, Any]:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return {
        "file": getattr(upload, "name", ""),
        "size": getattr(upload, "size", None),
        "sha256": digest.hexdigest(),
    }


def body_hash(request: Request) -> str:
    """SHA-256 of the parsed body: JSON canonically (sorted keys), form fields and files by content."""
    data = request.data
    if isinstance(data, MultiValueDict):
        data = {
            str(key): [_file_digest(v) if hasattr(v, "chunks") else str(v) for v in data.getlist(key)]
            for key in data
        }
    raw = orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(raw).hexdigest()


def _stale(now: dt.datetime) -> Q:
    return Q(created_at__lte=now - LIFETIME) | Q(completed=False, created_at__lte=now - ABANDONED_AFTER)


def purge_expired() -> int:
    """Delete every expired (or abandoned) row; returns how many (for a periodic job)."""
    return IdempotencyKey.objects.filter(_stale(timezone.now())).delete()[0]


def _replayed(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(row.content.encode(), status=row.status or 200, content_type=row.content_type)
    for name, value in (row.headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _answer(row: IdempotencyKey, digest: str) -> None:
    """A repeat of a remembered request: refuse it, or replay the response (raises either way)."""
    if row.body_hash != digest:
        raise KeyRefused(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            _("This idempotency key was used for a request with another body; use a new key."),
        )
    if not row.completed:
        raise KeyRefused(
            status.HTTP_409_CONFLICT,
            "idempotency_key_in_progress",
            _("A request with this idempotency key is still being processed; try again shortly."),
        )
    raise Replay(_replayed(row))


def begin(request: Request) -> IdempotencyKey | None:
    """Before the view runs: the in-progress row of a new key (committed), or ``None`` without a key.
    Raises ``Replay`` for a repeat already answered and ``KeyRefused`` for a key that cannot be used."""
    key = request.META.get(_META)
    if key is None or request.method not in METHODS:
        return None
    owner = owner_of(request)
    if owner is None:
        return None
    if not _KEY.fullmatch(key):
        raise exceptions.ValidationError(
            {HEADER: [_("An idempotency key is 1 to 255 visible ASCII characters (no spaces).")]}
        )
    path = request.path
    if len(path) > _MAX_PATH:  # no such resource: the view answers 404 or 400 by itself
        return None
    digest = body_hash(request)
    same = {"owner": owner, "key": key, "method": request.method, "path": path}
    now = timezone.now()
    IdempotencyKey.objects.filter(_stale(now), owner=owner).delete()
    for _attempt in range(3):
        row = IdempotencyKey.objects.filter(**same).first()
        if row is not None:
            if row.created_at > now - LIFETIME and (row.completed or row.created_at > now - ABANDONED_AFTER):
                _answer(row, digest)
            IdempotencyKey.objects.filter(pk=row.pk).delete()  # expired since the purge above
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(**same, body_hash=digest, created_at=now)
        except IntegrityError:
            continue  # a concurrent request with the same key got in first: answer as a repeat of it
    raise KeyRefused(
        status.HTTP_409_CONFLICT,
        "idempotency_key_in_progress",
        _("A request with this idempotency key is still being processed; try again shortly."),
    )


def finish(row: IdempotencyKey | None, response: HttpResponseBase) -> HttpResponseBase:
    """After the view: keep the response of ``row`` (below 500), or forget the key (5xx, a stream)."""
    if row is None:
        return response
    if response.status_code >= 500 or response.streaming:
        abandon(row)
        return response
    render = getattr(response, "render", None)
    if callable(render):
        render()
    try:
        text = response.content.decode()  # type: ignore[attr-defined]
    except UnicodeDecodeError:  # every API view answers JSON; anything else is not kept
        abandon(row)
        return response
    IdempotencyKey.objects.filter(pk=row.pk).update(
        completed=True,
        status=response.status_code,
        content=text,
        content_type=response.get("Content-Type", ""),
        headers={name: response[name] for name in KEPT_HEADERS if name in response},
    )
    return response


def abandon(row: IdempotencyKey | None) -> None:
    """Forget the key of a request that failed (the client may send it again)."""
    if row is not None:
        IdempotencyKey.objects.filter(pk=row.pk, completed=False).delete()
