"""Webhook events: the catalogue of event types, and the outbox rows written with the changes they tell of.

A module registers its event types once, in its ``AppConfig.ready``::

    from kith.webhooks import events
    events.register_type("order.created", _("Order created"), render=order_as_seen, visible=sees_order)
    events.on_audit("sales.order", "create", "order.created")   # derived from the audit trail
    events.publish("order.shipped", subject_type="sales.order", subject_id=order.pk)   # or said explicitly

The audit trail is the source: every create, update and delete of every audited model is recorded inside
the transaction that makes it, and each entry passes through ``on_audit_entry`` there (a listener of
``kith.audit.capture``). When the entry's (model, action) is mapped to an event type that an active webhook
wants, and the webhook's owner may see the record, one ``WebhookDelivery`` row is written in the same
transaction: a rolled-back change sends nothing, and a committed one cannot be lost by a process that dies
after the commit (``kith schedule`` picks up every due row). With no active webhook the cost is a dict
lookup and a clock read: which event types are wanted is kept per process for a few seconds, forgotten at
once when a webhook is saved here.

Within one transaction the events about one subject are merged: the phones, emails and tags written by
``customer_create`` after the customer itself fold into its ``customer.created`` (``folds_into``), and a
deletion drops the still unsent updates of the same record (``absorbs``). The body is made when the event
is first sent, from the record as the owner may then see it (so it shows the whole change, masked as for
the owner); a deletion's body is made at once, from the record in memory (``snapshot``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.db.models.signals import pre_delete
from django.utils import timezone
from django.utils.functional import Promise

from kith.webhooks.choices import ALL_EVENTS, PING, DeliveryStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventRef:
    """One event as the registry's functions see it."""

    event_type: str
    subject_type: str  # "parties.customer"
    subject_id: str
    customer_id: int | None = None  # the customer the record belongs to, when it belongs to one
    changed: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    instance: Any = None  # the record itself, only while the change is being written


@dataclass(frozen=True)
class Rendered:
    """The record as a webhook's owner may see it; ``changed`` replaces the event's list when given (a
    renderer leaves out the names of fields hidden from the owner)."""

    object: dict[str, Any]
    changed: tuple[str, ...] | None = None


Render = Callable[[Any, EventRef], Rendered | None]
Visible = Callable[[Any, EventRef], bool]
Discloses = Callable[[EventRef], Iterable[int]]


@dataclass(frozen=True)
class EventType:
    code: str
    label: Promise | str
    # the record as ``owner`` may see it now, or None when they may not (or it is gone)
    render: Render
    # cheap check while the change is written: does the owner see the record? (None: render decides)
    visible: Visible | None = None
    # render while the change is written (a deletion: the row is gone afterwards)
    snapshot: bool = False
    # an event of this type about a subject that already has an unsent event of one of these types in the
    # same transaction is merged into it (its changed fields are added)
    folds_into: tuple[str, ...] = ()
    # unsent events of these types about the same subject in the same transaction are dropped
    absorbs: tuple[str, ...] = ()
    # the customers whose data a sent event shows: each delivery is in the access log as a disclosure by
    # the webhook's owner, like an export (None: the event shows no customer's data)
    discloses: Discloses | None = None


@dataclass(frozen=True)
class AuditMapping:
    event_type: str
    subject: str = "self"  # "self": the entry's record; "customer": the customer it belongs to
    changed: str = ""  # a child record's changes go by this name on its subject ("phones")
    changed_from: Callable[[dict[str, Any]], Iterable[str]] | None = None  # an event entry's details
    details_from: Callable[[dict[str, Any]], dict[str, Any]] | None = None


_types: dict[str, EventType] = {}
_audit: dict[tuple[str, str], AuditMapping] = {}
_STASH = "_kith_webhooks_seen_by"


def register_type(
    code: str,
    label: Promise | str,
    *,
    render: Render,
    visible: Visible | None = None,
    snapshot: bool = False,
    folds_into: tuple[str, ...] = (),
    absorbs: tuple[str, ...] = (),
    discloses: Discloses | None = None,
) -> EventType:
    """Declare an event type webhooks can subscribe to (``noun.verb``, lower case)."""
    if code in (PING, ALL_EVENTS) or "." not in code:
        raise ValueError(f"invalid event type {code!r}")
    event = EventType(code, label, render, visible, snapshot, tuple(folds_into), tuple(absorbs), discloses)
    _types[code] = event
    return event


def on_audit(
    model: str,
    actions: str | Iterable[str],
    event_type: str,
    *,
    subject: str = "self",
    changed: str = "",
    changed_from: Callable[[dict[str, Any]], Iterable[str]] | None = None,
    details_from: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Audit entries of ``model`` ("app_label.model") with one of ``actions`` (``kith.audit.choices.Action``)
    become events of ``event_type``. ``subject="customer"``: the event is about the customer the record
    belongs to (its audit root), e.g. a phone's changes are a ``customer.updated`` naming ``phones``."""
    if event_type not in _types:
        raise LookupError(f"register the event type {event_type!r} first")
    if subject not in ("self", "customer"):
        raise ValueError("subject is 'self' or 'customer'")
    label = model.lower()
    for action in [actions] if isinstance(actions, str) else actions:
        _audit[(label, str(action))] = AuditMapping(event_type, subject, changed, changed_from, details_from)
        if str(action) == "delete" and _types[event_type].snapshot:
            _before_delete_models.add(label)


def event_types() -> list[EventType]:
    return sorted(_types.values(), key=lambda t: t.code)


def event_type(code: str) -> EventType:
    try:
        return _types[code]
    except KeyError:
        raise LookupError(f"unknown event type {code!r}") from None


def is_known(code: str) -> bool:
    return code in _types


def label_of(code: str) -> str:
    if code == PING:
        from django.utils.translation import gettext

        return gettext("Test event")
    found = _types.get(code)
    return str(found.label) if found else code


# --- which event types some active webhook wants (kept per process) ---------------------------------

CACHE_SECONDS = 5.0
_wanted: dict[str, Any] = {"until": 0.0, "types": frozenset()}
_table_exists = {"yes": False}


def forget() -> None:
    """Webhooks changed: read the wanted event types (and, in this thread's transaction, the active
    webhooks) again at the next event."""
    _wanted["until"] = 0.0
    for box in list(vars(_local).values()):
        box.webhooks = None


def _load_wanted(using: str) -> frozenset[str]:
    from kith.webhooks.models import Webhook

    if not _table_exists["yes"]:
        # migrations of other apps write audited rows before this app's table exists
        if Webhook._meta.db_table not in connections[using].introspection.table_names():
            return frozenset()
        _table_exists["yes"] = True
    types: set[str] = set()
    for listed in Webhook.objects.using(using).filter(active=True).values_list("event_types", flat=True):
        types.update(str(t) for t in listed or [])
    return frozenset(types)


def _is_wanted(event: str, using: str) -> bool:
    now = time.monotonic()
    if now >= _wanted["until"]:
        _wanted["types"] = _load_wanted(using)
        _wanted["until"] = now + CACHE_SECONDS
    types: frozenset[str] = _wanted["types"]
    return bool(types) and (event in types or ALL_EVENTS in types)


# --- per-transaction bookkeeping --------------------------------------------------------------------


@dataclass
class _Outbox:
    """The rows this transaction wrote: to merge later events into them, and to queue them at commit."""

    commit_hooks: list[Any]  # the connection's on-commit list: a new list means a new transaction
    webhooks: list[Any] | None = None  # the active webhooks, read once per transaction
    subjects: dict[tuple[int, str, str], list[tuple[int, str, set[str]]]] = field(default_factory=dict)
    new_ids: list[int] = field(default_factory=list)
    flushed: bool = False


_local = threading.local()


def _outbox(using: str) -> _Outbox:
    connection = connections[using]
    box: _Outbox | None = getattr(_local, using, None)
    if box is None or box.flushed or box.commit_hooks is not connection.run_on_commit:
        box = _Outbox(connection.run_on_commit)
        setattr(_local, using, box)
        transaction.on_commit(functools.partial(_flush, box), using=using)
    return box


def _active_webhooks(using: str) -> list[Any]:
    """The active webhooks with their owners (read once per transaction: an import's batch of thousands
    of events reads them once, and each owner's permissions are worked out once)."""
    from kith.webhooks.models import Webhook

    box = _outbox(using)
    if box.webhooks is None:
        box.webhooks = list(
            Webhook.objects.using(using).filter(active=True).select_related("owner").order_by("pk")
        )
    return box.webhooks


def _flush(box: _Outbox) -> None:
    """After the commit: queue the new deliveries (the pickup finds them anyway if this fails)."""
    box.flushed = True
    ids, box.new_ids = box.new_ids, []
    if ids:
        from kith.webhooks.services.delivery import enqueue

        enqueue(ids)


# --- writing events --------------------------------------------------------------------------------


def _root(instance: Any) -> int | None:
    from kith.audit import registry

    options = registry.options_for(type(instance)) if instance is not None else None
    if options is None or not options.root:
        return None
    value = instance.pk if options.root == "pk" else getattr(instance, options.root, None)
    with contextlib.suppress(TypeError, ValueError):
        return int(value) if value is not None else None
    return None


def _ref(
    mapping: AuditMapping,
    *,
    object_type: str,
    object_id: Any,
    customer_id: int | None,
    changes: Any,
    instance: Any,
) -> EventRef | None:
    if mapping.subject == "customer":
        if customer_id is None:
            return None
        subject_type, subject_id = "parties.customer", str(customer_id)
    else:
        subject_type, subject_id = object_type, str(object_id)
    changes = changes if isinstance(changes, dict) else {}
    if mapping.changed:
        changed: Iterable[str] = (mapping.changed,)
    elif mapping.changed_from is not None:
        changed = mapping.changed_from(changes)
    else:
        changed = (name for name in changes if not name.startswith("_"))
    details = mapping.details_from(changes) if mapping.details_from is not None else {}
    return EventRef(
        mapping.event_type,
        subject_type,
        subject_id,
        customer_id,
        tuple(sorted({str(c) for c in changed})),
        details,
        instance,
    )


def on_audit_entry(entry: Any, instance: Any) -> None:
    """``kith.audit.capture`` listener: runs for every entry written, inside the writing transaction."""
    mapping = _audit.get((entry.object_type, entry.action))
    if mapping is None:
        return
    using = entry._state.db or "default"
    if not _is_wanted(mapping.event_type, using):
        return
    ref = _ref(
        mapping,
        object_type=entry.object_type,
        object_id=entry.object_id,
        customer_id=entry.customer_id,
        changes=entry.changes,
        instance=instance,
    )
    if ref is not None:
        _write(ref, using=using, occurred_at=entry.timestamp)


def publish(
    event_type: str,
    *,
    subject_type: str,
    subject_id: Any,
    customer_id: int | None = None,
    instance: Any = None,
    changed: Iterable[str] = (),
    details: dict[str, Any] | None = None,
    using: str = "default",
) -> None:
    """An event that is not a change of an audited record (a job finished ...): written like the others,
    in the caller's transaction."""
    if not _is_wanted(event_type, using):
        return
    ref = EventRef(
        event_type,
        subject_type,
        str(subject_id),
        customer_id,
        tuple(sorted(set(changed))),
        dict(details or {}),
        instance,
    )
    _write(ref, using=using, occurred_at=timezone.now())


def _seen_before_delete(
    sender: type[models.Model], instance: Any, using: str = "default", **kwargs: Any
) -> None:
    """A deleted record's visibility is decided while it still exists: which webhooks' owners see it."""
    label = sender._meta.label_lower
    mapping = _audit.get((label, "delete"))
    if mapping is None or not _is_wanted(mapping.event_type, using):
        return
    ref = _ref(
        mapping,
        object_type=label,
        object_id=instance.pk,
        customer_id=_root(instance),
        changes={},
        instance=instance,
    )
    event = _types[mapping.event_type]
    if ref is None:
        return
    seen = set()
    with transaction.atomic(using=using, savepoint=False):
        webhooks = _active_webhooks(using)
    for webhook in webhooks:
        if webhook.wants(ref.event_type) and (event.visible is None or event.visible(webhook.owner, ref)):
            seen.add(webhook.pk)
    instance.__dict__[_STASH] = seen


_before_delete_models: set[str] = set()


def connect() -> None:
    """Connect the receivers the registrations need (the app's ``ready`` calls it after registering)."""
    from django.apps import apps

    for label in _before_delete_models:
        model = apps.get_model(label)
        pre_delete.connect(_seen_before_delete, sender=model, dispatch_uid=f"kith.webhooks.seen.{label}")


def compose(
    *,
    event_id: uuid.UUID | str,
    event_type: str,
    created: dt.datetime,
    obj: dict[str, Any],
    changed: Iterable[str] = (),
    details: dict[str, Any] | None = None,
) -> str:
    """The JSON body of an event (the bytes signed and sent)."""
    data: dict[str, Any] = {"object": obj, "changed": list(changed)}
    data.update(details or {})
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created": created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def _write(ref: EventRef, *, using: str, occurred_at: dt.datetime) -> None:
    from kith.webhooks.models import WebhookDelivery

    event = _types.get(ref.event_type)
    if event is None:
        return
    with transaction.atomic(using=using, savepoint=False):
        hooks = [w for w in _active_webhooks(using) if w.wants(ref.event_type)]
        if not hooks:
            return
        seen_before: set[int] | None = (
            ref.instance.__dict__.get(_STASH) if ref.instance is not None and event.snapshot else None
        )
        box = _outbox(using)
        event_id = uuid.uuid4()
        for webhook in hooks:
            if seen_before is not None:
                if webhook.pk not in seen_before:
                    continue
            elif event.visible is not None and not event.visible(webhook.owner, ref):
                continue
            key = (webhook.pk, ref.subject_type, ref.subject_id)
            earlier = box.subjects.get(key, [])
            if _fold(earlier, event, ref, using):
                continue
            if event.absorbs:
                dropped = [pk for pk, code, _changed in earlier if code in event.absorbs]
                if dropped:
                    WebhookDelivery.objects.using(using).filter(
                        pk__in=dropped, status=DeliveryStatus.PENDING, attempts=0
                    ).delete()
                    earlier = [row for row in earlier if row[0] not in dropped]
            body = ""
            changed = ref.changed
            if event.snapshot:
                shown = _render_safely(event, webhook.owner, ref)
                if shown is None:
                    continue
                changed = shown.changed if shown.changed is not None else changed
                body = compose(
                    event_id=event_id,
                    event_type=ref.event_type,
                    created=occurred_at,
                    obj=shown.object,
                    changed=changed,
                    details=ref.details,
                )
            delivery = WebhookDelivery.objects.using(using).create(
                webhook=webhook,
                event_id=event_id,
                event_type=ref.event_type,
                subject_type=ref.subject_type[:100],
                subject_id=ref.subject_id[:64],
                changed=list(changed),
                details=ref.details,
                body=body,
                created_at=occurred_at,
                next_attempt_at=occurred_at,
            )
            box.subjects[key] = [*earlier, (delivery.pk, ref.event_type, set(changed))]
            box.new_ids.append(delivery.pk)


def _fold(earlier: list[tuple[int, str, set[str]]], event: EventType, ref: EventRef, using: str) -> bool:
    """Merge the event into an unsent one of this transaction about the same subject, if its type allows."""
    from kith.webhooks.models import WebhookDelivery

    for index, (pk, code, changed) in enumerate(earlier):
        if code not in event.folds_into:
            continue
        merged = changed | set(ref.changed)
        if merged == changed:
            return True
        if (
            WebhookDelivery.objects.using(using)
            .filter(pk=pk, status=DeliveryStatus.PENDING, attempts=0)
            .update(changed=sorted(merged))
        ):
            earlier[index] = (pk, code, merged)
            return True
    return False


def _render_safely(event: EventType, owner: Any, ref: EventRef) -> Rendered | None:
    try:
        return event.render(owner, ref)
    except Exception:  # a renderer's bug must not undo the change the event tells of
        log.exception(
            "webhook event %s about %s %s could not be rendered",
            ref.event_type,
            ref.subject_type,
            ref.subject_id,
        )
        return Rendered({"id": ref.subject_id, "type": ref.subject_type})


def _delivery_ref(delivery: Any) -> EventRef:
    return EventRef(
        delivery.event_type,
        delivery.subject_type,
        delivery.subject_id,
        None,
        tuple(delivery.changed or ()),
        dict(delivery.details or {}),
    )


def disclosed_customers(delivery: Any) -> list[int]:
    """The customers whose data the delivery's event shows (its type's ``discloses``)."""
    event = _types.get(delivery.event_type)
    if event is None or event.discloses is None:
        return []
    return sorted({int(pk) for pk in event.discloses(_delivery_ref(delivery))})


def render_body(delivery: Any, owner: Any) -> str | None:
    """The body of a delivery made now, as ``owner`` sees the record; None when they may not see it."""
    event = _types.get(delivery.event_type)
    if event is None:
        return None
    ref = _delivery_ref(delivery)
    shown = event.render(owner, ref)
    if shown is None:
        return None
    return compose(
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        created=delivery.created_at,
        obj=shown.object,
        changed=shown.changed if shown.changed is not None else ref.changed,
        details=ref.details,
    )
