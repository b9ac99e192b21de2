"""Writes of the audit app: events (logins, exports, sensitive views, bulk loads), restores, access log."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kith.audit import capture
from kith.audit.choices import Action, Source
from kith.audit.context import audit_context, client_address, current
from kith.audit.models import AccessLog, AuditEntry
from kith.core.crypto import UNREADABLE, reveal_changes

# --- events -----------------------------------------------------------------------------------------


def record_event(
    action: str,
    *,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEntry:
    """Record something that is not a model change: an export, an import, a view of sensitive data ...

    ``details`` is stored as the entry's ``changes`` (plain JSON).
    """
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    entry: AuditEntry = capture.record(
        action=action,
        instance=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        customer_id=customer_id,
        changes=details,
        actor=actor,
    )
    return entry


def record_bulk_load(what: str, counts: dict[str, int], *, actor: Any = None) -> AuditEntry:
    """One summary entry for a load that wrote rows without going through the ORM (demo data, imports)."""
    return record_event(
        Action.BULK_LOAD, object_type="bulk_load", object_repr=what[:200], details=dict(counts), actor=actor
    )


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with _request_context(request, actor=user):
        record_event(Action.LOGIN, obj=user, actor=user)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    with _request_context(request, actor=user):
        record_event(Action.LOGOUT, obj=user, actor=user)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    attempted = str(credentials.get("username") or credentials.get("email") or "")[:150]
    with _request_context(request):
        record_event(
            Action.LOGIN_FAILED,
            object_type="security.user",
            object_repr=attempted,
            details={"username": attempted},
        )


@contextmanager
def _request_context(request: Any, *, actor: Any = None) -> Iterator[None]:
    outer = current()
    if request is None:
        with audit_context(source=outer.source, actor=actor, request_id=outer.request_id):
            yield
        return
    source = Source.API if getattr(request, "path", "").startswith("/api/") else Source.WEB
    with audit_context(
        source=source,
        actor=actor,
        remote_addr=client_address(request),
        request_id=outer.request_id,
    ):
        yield


# --- restore ----------------------------------------------------------------------------------------

CUSTOMER_TYPE = "parties.customer"


def customer_state_after(entry: AuditEntry) -> dict[str, Any]:
    """The customer's recorded field values right after ``entry`` (replayed from its history).

    Fields that no entry up to then mentions are left out, unless the history starts with the customer's
    creation (which lists every non-empty field): then they were empty.
    """
    state: dict[str, Any] = {}
    created = False
    history = (
        AuditEntry.objects.filter(object_type=CUSTOMER_TYPE, object_id=entry.object_id, seq__lte=entry.seq)
        .order_by("seq")
        .values_list("action", "changes")
    )
    for action, changes in history.iterator():
        changes = reveal_changes(CUSTOMER_TYPE, changes)
        if action == Action.CREATE:
            created = True
            state = {}
        for name, change in (changes or {}).items():
            if isinstance(change, list) and len(change) == 2:
                after = change[1]
                if after == UNREADABLE:  # a value no key opens is never written back as data
                    state.pop(name, None)
                    continue
                if isinstance(after, dict):
                    after = {k: v for k, v in after.items() if v != UNREADABLE}
                state[name] = after
    state["__created__"] = created
    return state


def _restorable_fields(customer: Any) -> tuple[str, ...]:
    from kith.parties.services.customers import COMMON_FIELDS, COMPANY_FIELDS, PERSON_FIELDS

    return COMMON_FIELDS + (PERSON_FIELDS if customer.is_person else COMPANY_FIELDS)


def restore_customer(
    *, actor: Any, customer: Any, entry: AuditEntry, expected_version: int | None, field: str = ""
) -> Any:
    """Put the customer's master data (or one ``field``) back as it was after ``entry``; audited as a restore.

    Goes through ``customer_update``, so its validation and version check apply.
    """
    from kith.parties.services import customer_update

    if entry.object_type != CUSTOMER_TYPE or entry.object_id != str(customer.pk):
        raise ValidationError({"entry": [_("This entry is not about this customer.")]})
    state = customer_state_after(entry)
    created = state.pop("__created__")
    allowed = _restorable_fields(customer)
    names = [field] if field else [*allowed, "custom_data"]
    for name in names:
        if name not in (*allowed, "custom_data"):
            raise ValidationError({"field": [_("This field cannot be restored.")]})
    if field and field not in state and not created:
        raise ValidationError({"field": [_("The history does not say what this field was then.")]})
    data: dict[str, Any] = {}
    custom: dict[str, Any] | None = None
    for name in names:
        if name not in state and not created:
            continue
        value = state.get(name)
        if name == "custom_data":
            then = value if isinstance(value, dict) else {}
            custom = {key: then.get(key) for key in {*customer.custom_data, *then}}
        else:
            data[name] = (
                "" if value is None and name not in ("owner", "birth_date", "founded_date") else value
            )
    with capture.restoring(entry.seq), transaction.atomic():
        return customer_update(
            actor=actor, customer=customer, expected_version=expected_version, data=data, custom=custom
        )


# --- access log -------------------------------------------------------------------------------------


# Ids kept per row: a search page holds at most a few hundred; an export keeps every exported customer
# (customer_count always holds the true number).
MAX_LOGGED_IDS = 100_000


def log_access(
    user: Any,
    kind: str,
    *,
    customer_ids: Iterable[int] = (),
    query: str = "",
    filters: str | Mapping[str, Any] = "",
    result_count: int | None = None,
) -> AccessLog:
    """One row per read: a customer page, a search (text, filters, result count and the ids listed) or an
    export (the ids exported). One insert, then the user's daily counter in the cache (``watch``)."""
    context = current()
    ids = [int(i) for i in customer_ids]
    now = timezone.now()
    signed_in = bool(getattr(user, "is_authenticated", False) and getattr(user, "pk", None))
    row = AccessLog(
        timestamp=now,
        day=now.date(),
        user_id=user.pk if signed_in else None,
        username=user.get_username()[:150] if signed_in else "",
        kind=kind,
        source=context.source,
        remote_addr=_address(context.remote_addr),
        customer_ids=ids[:MAX_LOGGED_IDS],
        customer_count=len(ids),
        query=(query or "")[:300],
        filters=describe_filters(filters),
        result_count=result_count,
    )
    _insert(row)
    if signed_in and ids:
        from kith.audit import watch

        watch.count_access(row)
    return row


_INSERT_COLUMNS = (
    "timestamp",
    "day",
    "user_id",
    "username",
    "kind",
    "source",
    "remote_addr",
    "customer_ids",
    "customer_count",
    "query",
    "filters",
    "result_count",
)


@functools.cache
def _insert_sql(vendor: str) -> str:
    names = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
    marks = ", ".join(
        "%s::jsonb" if c == "customer_ids" and vendor == "postgresql" else "%s" for c in _INSERT_COLUMNS
    )
    table = connection.ops.quote_name(AccessLog._meta.db_table)
    returning = " RETURNING id" if vendor == "postgresql" else ""
    return f"INSERT INTO {table} ({names}) VALUES ({marks}){returning}"  # noqa: S608 - fixed names


def _insert(row: AccessLog) -> None:
    """One INSERT without the ORM's per-field machinery: this runs on every customer page and search
    (about a third of the cost of ``objects.create``; ``kith/audit/tests/bench_log_access.py``)."""
    ops = connection.ops
    params = [
        ops.adapt_datetimefield_value(row.timestamp),
        ops.adapt_datefield_value(row.day),
        row.user_id,
        row.username,
        row.kind,
        row.source,
        row.remote_addr,
        json.dumps(row.customer_ids, separators=(",", ":")),
        row.customer_count,
        row.query,
        row.filters,
        row.result_count,
    ]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # A read's log entry on its own: committed without waiting for the disk (a crash may lose the
        # last fraction of a second of access log, never a business change, which commits in its own
        # transaction). Waiting for the flush on every search costs most of the search API's throughput.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(_insert_sql(connection.vendor), params)
            row.id = cursor.fetchone()[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection.vendor), params)
            row.id = cursor.fetchone()[0] if connection.vendor == "postgresql" else cursor.lastrowid
    row._state.adding = False
    row._state.db = "default"


def describe_filters(filters: str | Mapping[str, Any]) -> str:
    """Filters as compact URL-style text (``kind=person&tag=vip``), at most 300 characters."""
    if isinstance(filters, str):
        return filters[:300]
    pairs = []
    for key, value in filters.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs += [(str(key), str(v)) for v in values if str(v).strip()]
    return urlencode(pairs)[:300]


def _address(value: str | None) -> str | None:
    from kith.audit.chain import normalise_address

    return normalise_address(value)
