"""The permission and visibility checks of every parties write, so web, API, import and jobs share them.

``actor=None`` is Kith itself (demo loader, jobs acting for the organisation): it is not checked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kith.parties.models import Customer
from kith.security.rules import require_permission

T = TypeVar("T")

# Other domains' vetoes on changing a customer at all (privacy: an erased customer stays erased).
_write_guards: list[Callable[[Any, Customer], None]] = []


def register_write_guard(guard: Callable[[Any, Customer], None]) -> None:
    """``guard(actor, customer)`` raises ``PermissionDenied`` when no one may change the customer."""
    if guard not in _write_guards:
        _write_guards.append(guard)


def require(actor: Any, object_type: str, action: str) -> None:
    if actor is not None:
        require_permission(actor, object_type, action)


def require_change(
    actor: Any, customer: Customer, object_type: str = "customer", action: str = "edit"
) -> None:
    """``actor`` holds (object type, action) and may change ``customer`` (owner, manager chain, a
    read-write share or an open default)."""
    if actor is None:
        return
    require_permission(actor, object_type, action)
    if customer.pk is None:
        return
    for guard in _write_guards:
        guard(actor, customer)
    from kith.parties.selectors.customers import within_write_reach

    if not within_write_reach(actor, customer):
        raise PermissionDenied(
            _("You may see %(name)s but not change it: ask its owner or their manager to share it with you.")
            % {"name": customer.display_name}
        )


def administers_catalogues(func: Callable[..., T]) -> Callable[..., T]:
    """Catalogue writes (custom fields, trees, tags, roles, relationship types) need ("catalogue",
    "administer"); the decorated service takes ``actor`` as a keyword."""

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> T:
        require(kwargs.get("actor"), "catalogue", "administer")
        return func(*args, **kwargs)

    return checked
