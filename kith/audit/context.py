"""Who is acting, from where and through which door: one context per request, job or command.

The middleware opens a context for every web request (source ``web``, or ``api`` under ``/api/``); the
worker opens one per job (``job``); the ``kith`` command sets ``cli`` as the process default. Code that
acts on its own (imports, the portal) wraps its work in ``audit_context(source=..., actor=...)``.

The user is read from the request when an entry is written, not when the request starts: DRF
authenticates API tokens inside the view and then sets the underlying ``HttpRequest.user``.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from kith.audit.choices import Source


@dataclass(frozen=True)
class AuditContext:
    source: str = Source.SYSTEM
    actor: Any = None
    actor_label: str = ""
    request: Any = None
    remote_addr: str | None = None
    request_id: str = ""

    def resolve_actor(self) -> tuple[Any, str]:
        """(user or None, label) at the moment of writing."""
        actor = self.actor
        if actor is None and self.request is not None:
            actor = getattr(self.request, "user", None)
        if actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None):
            return actor, actor.get_username()
        return None, self.actor_label


_default = AuditContext()
_current: ContextVar[AuditContext | None] = ContextVar("kith_audit_context", default=None)


def current() -> AuditContext:
    return _current.get() or _default


def set_default_source(source: str) -> None:
    """The process-wide context when nothing more specific is open (``kith`` commands: ``cli``)."""
    global _default
    label = ""
    if source == Source.CLI:
        try:
            label = f"os:{getpass.getuser()}"
        except (KeyError, OSError):  # pragma: no cover - no user name for this uid
            label = "os:?"
    _default = AuditContext(source=source, actor_label=label)


@contextmanager
def audit_context(
    *,
    source: str,
    actor: Any = None,
    actor_label: str = "",
    request: Any = None,
    remote_addr: str | None = None,
    request_id: str = "",
) -> Iterator[AuditContext]:
    """Attribute everything written inside the block to ``actor`` acting through ``source``."""
    if source not in Source.values:
        raise ValueError(f"unknown audit source {source!r}")
    outer = current()
    context = AuditContext(
        source=source,
        actor=actor,
        actor_label=actor_label
        or (actor.get_username() if getattr(actor, "pk", None) else outer.actor_label),
        request=request,
        remote_addr=remote_addr,
        request_id=request_id or outer.request_id,
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def client_address(request: Any) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wrote unless a trusted proxy sets it.
    return (getattr(request, "META", {}) or {}).get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Opens the audit context of a web or API request (after authentication)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        source = Source.API if request.path.startswith("/api/") else Source.WEB
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        with audit_context(
            source=source, request=request, remote_addr=client_address(request), request_id=request_id
        ):
            return self.get_response(request)


# --- background jobs ----------------------------------------------------------------------------------
_job_tokens: ContextVar[list[Any] | None] = ContextVar("kith_audit_job_tokens", default=None)


def job_started(sender: Any, task_result: Any = None, **kwargs: Any) -> None:
    tokens = _job_tokens.get() or []
    label = f"job:{getattr(getattr(task_result, 'task', None), 'name', '') or 'task'}"
    tokens.append(_current.set(AuditContext(source=Source.JOB, actor_label=label[:150])))
    _job_tokens.set(tokens)


def job_finished(sender: Any, task_result: Any = None, **kwargs: Any) -> None:
    tokens = _job_tokens.get()
    if tokens:
        _current.reset(tokens.pop())
