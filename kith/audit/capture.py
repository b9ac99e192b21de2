"""Recording every change of every audited model, field by field, in the transaction that makes it.

Saves and deletes are caught with Django's model signals. Django sends no signal for ``QuerySet.update``,
``bulk_create`` and ``bulk_update`` (the customer service updates with ``UPDATE ... WHERE version = n``
and writes contact points with ``bulk_create``), so those three methods are wrapped once here: for audited
models they read the rows' previous values (one query), make the change and record it; for every other
model they are Django's own methods. Writes that bypass the ORM altogether (the demo loader's raw SQL)
record one summary entry instead (``services.record_bulk_load``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from kith.audit import registry
from kith.audit.chain import append_many, jsonable
from kith.audit.choices import CHANGED, Action
from kith.audit.context import current
from kith.core.crypto import BlindIndexField, EncryptedMixin, SealedKeysJSONField

_suppressed: ContextVar[bool] = ContextVar("kith_audit_suppressed", default=False)
# Called with each entry written and the instance it is about (None for an event without one), inside the
# transaction of the change: a module that derives its own rows from the trail (webhooks' outbox) hooks in
# here, so what it writes commits or rolls back with the change. Must be cheap when it has nothing to do.
entry_listeners: list[Callable[[Any, models.Model | None], None]] = []
_restoring: ContextVar[int | None] = ContextVar("kith_audit_restoring", default=None)
_BEFORE = "_kith_audit_before"
_CLEARED = "_kith_audit_cleared"
PERMISSION_M2M = frozenset({"groups", "user_permissions", "permissions"})


@contextmanager
def suppressed() -> Iterator[None]:
    """Record nothing inside the block (a bulk load that writes its own summary entry)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


@contextmanager
def restoring(seq: int) -> Iterator[None]:
    """Changes made inside the block put a record back as it was after entry ``seq``: record them as a
    restore naming that entry."""
    token = _restoring.set(seq)
    try:
        yield
    finally:
        _restoring.reset(token)


def _options(model: type[models.Model]) -> registry.AuditOptions | None:
    if _suppressed.get():
        return None
    return registry.options_for(model)


def tracked_fields(model: type[models.Model], options: registry.AuditOptions) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.name not in options.exclude
        and f.attname not in options.exclude
        and not isinstance(f, BlindIndexField)  # derived from a field that is tracked
    ]


def _value(options: registry.AuditOptions, field: models.Field, value: Any) -> Any:
    return CHANGED if options.is_sensitive(field.name) else jsonable(value)


def _kept(field: models.Field, value: Any) -> Any:
    """A value as the entry keeps it: an encrypted field's value encrypted (kith.core.crypto), so the
    trail holds no more in clear than the table does."""
    if isinstance(field, EncryptedMixin) and value not in (None, ""):
        return field.get_prep_value(value)
    if isinstance(field, SealedKeysJSONField):
        return jsonable(field.seal_values(value))
    return jsonable(value)


def _root(instance: models.Model, options: registry.AuditOptions) -> int | None:
    if not options.root:
        return None
    value = instance.pk if options.root == "pk" else getattr(instance, options.root, None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _repr(instance: models.Model) -> str:
    try:
        named = getattr(instance, "audit_repr", None)  # a model whose name holds encrypted data
        return str(named() if named is not None else instance)[:200]
    except Exception:  # a __str__ that needs a deleted relation must not stop the write it records
        return f"{instance._meta.verbose_name} {instance.pk}"


def record(
    *,
    action: str,
    instance: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    customer_id: int | None = None,
    changes: dict[str, Any] | None = None,
    using: str = "default",
    actor: Any = None,
    actor_label: str = "",
) -> Any:
    """Write one entry with the current context's actor, address and source."""
    return record_many(
        [
            {
                "action": action,
                "instance": instance,
                "object_type": object_type,
                "object_id": object_id,
                "object_repr": object_repr,
                "customer_id": customer_id,
                "changes": changes,
            }
        ],
        using=using,
        actor=actor,
        actor_label=actor_label,
    )[0]


def record_many(
    items: list[dict[str, Any]], *, using: str = "default", actor: Any = None, actor_label: str = ""
) -> list[Any]:
    """Write one entry per item (``record``'s arguments) in one statement, with the current context's
    actor, address and source."""
    context = current()
    restored_from = _restoring.get()
    if actor is None:
        actor, label = context.resolve_actor()
        actor_label = actor_label or label
    else:
        actor_label = actor_label or actor.get_username()
    rows = []
    for item in items:
        action, changes, instance = item["action"], item.get("changes"), item.get("instance")
        object_type, object_id = item.get("object_type") or "", item.get("object_id")
        object_repr, customer_id = item.get("object_repr") or "", item.get("customer_id")
        if restored_from is not None and action == Action.UPDATE:
            action = Action.RESTORE
            changes = {**(changes or {}), "_restored_from": restored_from}
        if instance is not None:
            model = instance._meta.concrete_model  # also through a lazy object (request.user)
            options = registry.options_for(model)  # type: ignore[arg-type]
            object_type = object_type or model._meta.label_lower  # type: ignore[union-attr]
            object_id = instance.pk if object_id in ("", None) else object_id
            object_repr = object_repr or _repr(instance)
            if customer_id is None and options is not None:
                customer_id = _root(instance, options)
        rows.append(
            {
                "actor_id": getattr(actor, "pk", None),
                "actor_label": actor_label,
                "remote_addr": context.remote_addr,
                "source": context.source,
                "action": action,
                "object_type": object_type,
                "object_id": "" if object_id is None else str(object_id),
                "object_repr": object_repr,
                "customer_id": customer_id,
                "changes": changes or {},
                "request_id": context.request_id,
            }
        )
    with transaction.atomic(using=using, savepoint=False):
        entries = append_many(rows, using=using)
        for entry, item in zip(entries, items, strict=True):
            for listener in entry_listeners:
                listener(entry, item.get("instance"))
    return entries


def _creation_changes(instance: models.Model, options: registry.AuditOptions) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in tracked_fields(type(instance), options):
        value = getattr(instance, field.attname)
        if value in (None, "", [], {}):
            continue
        changes[field.name] = (
            _value(options, field, None) if options.is_sensitive(field.name) else [None, _kept(field, value)]
        )
    return changes


def _deletion_changes(instance: models.Model, options: registry.AuditOptions) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in tracked_fields(type(instance), options):
        value = getattr(instance, field.attname, None)
        if value in (None, "", [], {}):
            continue
        changes[field.name] = CHANGED if options.is_sensitive(field.name) else [_kept(field, value), None]
    return changes


def diff(
    options: registry.AuditOptions,
    fields: Iterable[models.Field],
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in fields:
        if field.attname not in before or field.attname not in after:
            continue
        old, new = jsonable(before[field.attname]), jsonable(after[field.attname])
        if old != new:
            changes[field.name] = (
                CHANGED
                if options.is_sensitive(field.name)
                else [_kept(field, before[field.attname]), _kept(field, after[field.attname])]
            )
    return changes


def _action(options: registry.AuditOptions, default: str) -> str:
    return Action.PERMISSION_CHANGE if options.permission else default


# --- signals ----------------------------------------------------------------------------------------


def on_pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    options = _options(sender)
    if options is None or raw or instance._state.adding or instance.pk is None:
        return
    fields = tracked_fields(sender, options)
    update_fields = kwargs.get("update_fields")
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    if not fields:
        instance.__dict__[_BEFORE] = None
        return
    row = (
        sender._base_manager.using(kwargs.get("using") or "default")
        .filter(pk=instance.pk)
        .values(*[f.attname for f in fields])
        .first()
    )
    instance.__dict__[_BEFORE] = (fields, row)


def on_post_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    options = _options(sender)
    if options is None or raw:
        return
    using = kwargs.get("using") or "default"
    before = instance.__dict__.pop(_BEFORE, None)
    if created:
        record(
            action=_action(options, Action.CREATE),
            instance=instance,
            changes=_creation_changes(instance, options),
            using=using,
        )
        return
    if before is None:  # nothing audited among the saved fields
        return
    fields, row = before
    if row is None:  # the row had gone: Django inserted it again
        record(
            action=_action(options, Action.CREATE),
            instance=instance,
            changes=_creation_changes(instance, options),
            using=using,
        )
        return
    after = {f.attname: getattr(instance, f.attname) for f in fields}
    changes = diff(options, fields, row, after)
    if changes:
        record(action=_action(options, Action.UPDATE), instance=instance, changes=changes, using=using)


def on_post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    options = _options(sender)
    if options is None:
        return
    record(
        action=_action(options, Action.DELETE),
        instance=instance,
        changes=_deletion_changes(instance, options),
        using=kwargs.get("using") or "default",
    )


def _m2m_field_name(instance: models.Model, through: type[models.Model], reverse: bool) -> str:
    if not reverse:
        for field in instance._meta.many_to_many:
            if field.remote_field.through is through:  # type: ignore[union-attr]
                return field.name
    for rel in instance._meta.related_objects:
        if rel.many_to_many and rel.through is through:  # type: ignore[attr-defined]
            return rel.get_accessor_name() or rel.name
    return through._meta.model_name or "related"


def _labelled(model: type[models.Model], pks: Iterable[Any], using: str) -> list[dict[str, Any]]:
    pks = sorted(pks, key=str)
    if not pks:
        return []
    found = {o.pk: _repr(o) for o in model._base_manager.using(using).filter(pk__in=pks).select_related()}
    return [{"id": jsonable(pk), "repr": found.get(pk, "")} for pk in pks]


def on_m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    using: str,
    **kwargs: Any,
) -> None:
    if action not in ("post_add", "post_remove", "pre_clear", "post_clear"):
        return
    options = _options(type(instance))
    if options is None:
        return
    name = _m2m_field_name(instance, sender, reverse)
    if action == "pre_clear":
        instance.__dict__.setdefault(_CLEARED, {})[name] = list(
            getattr(instance, name).using(using).values_list("pk", flat=True)
        )
        return
    if action == "post_clear":
        pks = instance.__dict__.get(_CLEARED, {}).pop(name, [])
        key = "removed"
    else:
        pks = list(pk_set or ())
        key = "added" if action == "post_add" else "removed"
    if not pks:
        return
    other = registry.options_for(model)
    permission = options.permission or name in PERMISSION_M2M or bool(other and other.permission)
    record(
        action=Action.PERMISSION_CHANGE if permission else Action.UPDATE,
        instance=instance,
        changes={name: {key: _labelled(model, pks, using)}},
        using=using,
    )


def add_links(field_name: str, links: dict[Any, Sequence[Any]], *, using: str = "default") -> None:
    """``instance.<field_name>.add(*targets)`` for every new instance in ``links`` with one INSERT and one
    audit statement for all of them (an import's batch), recorded as ``add`` would record each. Only for
    instances just created: no link exists yet, so none is skipped or compared."""
    links = {instance: targets for instance, targets in links.items() if targets}
    if not links:
        return
    model = type(next(iter(links)))
    field = model._meta.get_field(field_name)
    through = field.remote_field.through  # type: ignore[union-attr]
    source = field.m2m_field_name()  # type: ignore[union-attr]
    target = field.m2m_reverse_field_name()  # type: ignore[union-attr]
    rows = [
        through(**{f"{source}_id": instance.pk, f"{target}_id": other.pk})
        for instance, targets in links.items()
        for other in {t.pk: t for t in targets}.values()
    ]
    with transaction.atomic(using=using, savepoint=False):
        _original_bulk_create(through._base_manager.using(using), rows)
        options = _options(model)
        if options is None:
            return
        other = registry.options_for(field.related_model)  # type: ignore[arg-type]
        permission = options.permission or field_name in PERMISSION_M2M or bool(other and other.permission)
        action = Action.PERMISSION_CHANGE if permission else Action.UPDATE
        record_many(
            [
                {
                    "action": action,
                    "instance": instance,
                    "changes": {
                        field_name: {
                            "added": [
                                {"id": jsonable(t.pk), "repr": _repr(t)}
                                for t in sorted({t.pk: t for t in targets}.values(), key=lambda t: str(t.pk))
                            ]
                        }
                    },
                }
                for instance, targets in links.items()
            ],
            using=using,
        )


# --- QuerySet methods Django sends no signals for ---------------------------------------------------

_original_update = QuerySet.update
_original_bulk_create = QuerySet.bulk_create
_original_bulk_update = QuerySet.bulk_update


def _locked_rows(queryset: QuerySet, using: str) -> list[models.Model]:
    model = queryset.model
    rows = model._base_manager.using(using).filter(pk__in=queryset.values("pk"))
    from django.db import connections

    connection = connections[using]
    if connection.in_atomic_block and connection.features.has_select_for_update_of:
        rows = rows.select_for_update(of=("self",))
    return list(rows)


def audited_update(self: QuerySet, **kwargs: Any) -> int:
    options = _options(self.model)
    if options is None:
        return _original_update(self, **kwargs)
    meta = self.model._meta
    fields = [meta.get_field(name) for name in kwargs]
    tracked = [f for f in tracked_fields(self.model, options) if f in fields]
    if not tracked:
        return _original_update(self, **kwargs)
    using = self.db
    with transaction.atomic(using=using, savepoint=False):
        before = _locked_rows(self, using)
        count = _original_update(self, **kwargs)
        if not count or not before:
            return count
        literal = not any(hasattr(kwargs[f.name], "resolve_expression") for f in tracked)
        if literal and count == len(before):
            after_values: dict[Any, dict[str, Any]] = {}
            common = {}
            for field in tracked:
                value = kwargs[field.name]
                if isinstance(value, models.Model):
                    value = value.pk
                common[field.attname] = field.to_python(value) if value is not None else None
            after_values = {obj.pk: common for obj in before}
        else:
            after_values = {
                row["pk"]: row
                for row in self.model._base_manager.using(using)
                .filter(pk__in=[o.pk for o in before])
                .values("pk", *[f.attname for f in tracked])
            }
        for obj in before:
            after = after_values.get(obj.pk)
            if after is None:
                continue
            old = {f.attname: getattr(obj, f.attname) for f in tracked}
            changes = diff(options, tracked, old, after)
            if changes:
                for attname, value in after.items():
                    if attname != "pk":
                        setattr(obj, attname, value)
                record(action=_action(options, Action.UPDATE), instance=obj, changes=changes, using=using)
    return count


def audited_bulk_create(self: QuerySet, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> Any:
    options = _options(self.model)
    if options is None:
        return _original_bulk_create(self, objs, *args, **kwargs)
    with transaction.atomic(using=self.db, savepoint=False):
        created = _original_bulk_create(self, objs, *args, **kwargs)
        action = _action(options, Action.CREATE)
        record_many(
            [{"action": action, "instance": o, "changes": _creation_changes(o, options)} for o in created],
            using=self.db,
        )
    return created


def audited_bulk_update(
    self: QuerySet, objs: Iterable[models.Model], fields: Any, *args: Any, **kwargs: Any
) -> Any:
    options = _options(self.model)
    if options is None:
        return _original_bulk_update(self, objs, fields, *args, **kwargs)
    objs = list(objs)
    names = set(fields)
    tracked = [f for f in tracked_fields(self.model, options) if f.name in names or f.attname in names]
    if not tracked:
        return _original_bulk_update(self, objs, fields, *args, **kwargs)
    using = self.db
    with transaction.atomic(using=using, savepoint=False):
        previous = {
            row["pk"]: row
            for row in self.model._base_manager.using(using)
            .filter(pk__in=[o.pk for o in objs])
            .values("pk", *[f.attname for f in tracked])
        }
        count = _original_bulk_update(self, objs, fields, *args, **kwargs)
        for obj in objs:
            before = previous.get(obj.pk)
            if before is None:
                continue
            after = {f.attname: getattr(obj, f.attname) for f in tracked}
            changes = diff(options, tracked, before, after)
            if changes:
                record(action=_action(options, Action.UPDATE), instance=obj, changes=changes, using=using)
    return count


_connected_deletes: set[type[models.Model]] = set()


def connect_deletes() -> None:
    """post_delete per audited model: a receiver for every model would turn Django's fast deletes of
    unaudited tables (sessions, search vocabulary, timeline index) into row-by-row deletes."""
    for model in registry.audited_models():
        if model not in _connected_deletes:
            post_delete.connect(
                on_post_delete, sender=model, dispatch_uid=f"kith.audit.delete.{model._meta.label}"
            )
            _connected_deletes.add(model)


def install() -> None:
    pre_save.connect(on_pre_save, dispatch_uid="kith.audit.pre_save")
    post_save.connect(on_post_save, dispatch_uid="kith.audit.post_save")
    m2m_changed.connect(on_m2m_changed, dispatch_uid="kith.audit.m2m_changed")
    QuerySet.update = audited_update  # type: ignore[method-assign]
    QuerySet.bulk_create = audited_bulk_create  # type: ignore[method-assign]
    QuerySet.bulk_update = audited_bulk_update  # type: ignore[method-assign]
    connect_deletes()
