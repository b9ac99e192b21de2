"""Field-level security: which fields are sensitive, each role's access per field (hidden / read-only /
editable), masking, and the one decision per user and record that every output channel applies.

- ``register_sensitive(object_type, field, kind=...)``: the owning app declares its sensitive fields in
  ``AppConfig.ready``; ``register_sensitive_source`` adds fields admins mark at run time (custom fields);
  ``register_fields`` lists every field of a type for the field-rules page.
- ``field_view(user, record)`` answers, once per request and record, which fields are hidden, masked and
  read-only for ``user``: hidden and read-only come from the field rules of their roles (the most
  permissive wins; no rule means editable); sensitive fields are masked unless the user has clearance
  (``rules.has_clearance``) or an approved, unexpired access request for that record.
- ``mask(kind, value)`` is the one way a value is masked; ``check_writable`` is the one check every write
  of a record calls with the fields it changes.

Field names: a model field (``birth_date``), a list of related rows (``phones``: its items' sensitive
attributes are masked) or a custom field (``custom.<key>``, values in the record's ``custom_data``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from kith.core.crypto import reveal_changes
from kith.security.models import AccessRequest, AccessRequestStatus, FieldAccess, FieldRule, Role

PHONE, ID_NUMBER, DATE, AMOUNT, TEXT = "phone", "id_number", "date", "amount", "text"
KINDS = (PHONE, ID_NUMBER, DATE, AMOUNT, TEXT)
CUSTOM_PREFIX = "custom."
CACHE_SECONDS = 3600
_RANK: dict[str, int] = {FieldAccess.HIDDEN.value: 0, FieldAccess.READ.value: 1, FieldAccess.EDIT.value: 2}


# --- masking ------------------------------------------------------------------------------------------
def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _keep(text: str, head: int, tail: int) -> str:
    """``text`` with everything but the first ``head`` and last ``tail`` characters starred (short values
    keep less, so that at least three characters are always hidden)."""
    while head + tail > len(text) - 3 and (head or tail):
        if head >= tail and head:
            head -= 1
        else:
            tail -= 1
    return text[:head] + "*" * (len(text) - head - tail) + (text[len(text) - tail :] if tail else "")


_COUNTRY_CODES = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def mask(kind: str, value: Any) -> str:
    """The masked form of ``value``: ``+86 138****8000``, ``1101**********1234``, ``****-03-12``, ``***``.

    Empty values stay empty (that a field is empty is not sensitive)."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if kind == PHONE:
        text = str(value).strip()
        prefix = ""
        national = _digits(text)
        if text.startswith("+"):
            # E.164: the country code is the one prefix of 1-3 digits that is a code (they are prefix-free)
            for size in (1, 2, 3):
                if int(national[:size] or 0) in _COUNTRY_CODES:
                    prefix, national = f"+{national[:size]} ", national[size:]
                    break
        return prefix + _keep(national, 3, 4) if national else "****"
    if kind == ID_NUMBER:
        return _keep(str(value).strip(), 4, 4)
    if kind == DATE:
        # month and day stay: anniversaries need them; the year (the age) is hidden
        if isinstance(value, dt.date):
            return f"****-{value.month:02d}-{value.day:02d}"
        text = str(value)
        try:
            parsed_date = dt.date.fromisoformat(text[:10])
        except ValueError:
            return "****"
        return f"****-{parsed_date.month:02d}-{parsed_date.day:02d}"
    if kind == AMOUNT:
        return "***"
    return "****"


# --- the registry -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SensitiveField:
    object_type: str
    field: str
    kind: str = TEXT
    label: Promise | str = ""
    # record kinds it applies to (customers: "person", "company"); empty: every record
    applies_to: tuple[str, ...] = ()
    # for a list of related rows: the attributes of each item that are masked
    item_attrs: tuple[str, ...] = ()

    def applies(self, record_kind: str) -> bool:
        return not self.applies_to or record_kind in self.applies_to


_sensitive: dict[str, dict[str, SensitiveField]] = {}
_sources: dict[str, list[Callable[[], Iterable[SensitiveField]]]] = {}
_catalogues: dict[str, Callable[[], list[tuple[str, str]]]] = {}


def register_sensitive(
    object_type: str,
    field: str,
    *,
    kind: str = TEXT,
    label: Promise | str = "",
    applies_to: tuple[str, ...] = (),
    item_attrs: tuple[str, ...] = (),
) -> SensitiveField:
    """Declare ``field`` of ``object_type`` sensitive (call from the owning app's ``AppConfig.ready``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown sensitive kind {kind!r}")
    entry = SensitiveField(object_type, field, kind, label, tuple(applies_to), tuple(item_attrs))
    _sensitive.setdefault(object_type, {})[field] = entry
    return entry


def register_sensitive_source(object_type: str, source: Callable[[], Iterable[SensitiveField]]) -> None:
    """Fields admins mark sensitive at run time (custom fields): ``source()`` is read once per request."""
    _sources.setdefault(object_type, []).append(source)


def register_fields(object_type: str, provider: Callable[[], list[tuple[str, str]]]) -> None:
    """Every field of ``object_type`` that a field rule may name, as (field, label), for the rules page."""
    _catalogues[object_type] = provider


def fields_of(object_type: str) -> list[tuple[str, str]]:
    provider = _catalogues.get(object_type)
    return provider() if provider else []


def rule_object_types() -> list[str]:
    return list(_catalogues)


def sensitive_fields(object_type: str) -> dict[str, SensitiveField]:
    """The declared sensitive fields of ``object_type`` plus those admins marked."""
    found = dict(_sensitive.get(object_type, {}))
    for source in _sources.get(object_type, []):
        for entry in source():
            found[entry.field] = entry
    return found


# --- who sees what ------------------------------------------------------------------------------------
@dataclass
class FieldView:
    """What one user may do with the fields of one record."""

    object_type: str
    hidden: frozenset[str] = frozenset()
    # sensitive fields shown masked: field -> the sensitive field's entry
    masked: dict[str, SensitiveField] = field(default_factory=dict)
    read_only: frozenset[str] = frozenset()
    # the approved access request that unmasks sensitive fields of this record, and which fields
    grant_id: int | None = None
    granted: frozenset[str] = frozenset()
    purpose: str = ""
    grant_expires_at: dt.datetime | None = None

    @property
    def stale(self) -> bool:
        """A grant it relies on has run out since it was worked out."""
        return self.grant_expires_at is not None and timezone.now() >= self.grant_expires_at

    def shows(self, name: str) -> bool:
        return name not in self.hidden

    def is_masked(self, name: str) -> bool:
        return name in self.masked

    def can_write(self, name: str) -> bool:
        return name not in self.hidden and name not in self.read_only and name not in self.masked

    @property
    def anything_masked(self) -> bool:
        return bool(self.masked)

    def display(self, name: str, value: Any) -> Any:
        """``value`` as this user may see it: masked, or as it is."""
        entry = self.masked.get(name)
        return mask(entry.kind, value) if entry is not None else value

    # template helpers: {% if fv.masked_names.birth_date %}
    @property
    def masked_names(self) -> dict[str, bool]:
        return dict.fromkeys(self.masked, True)

    @property
    def hidden_names(self) -> dict[str, bool]:
        return dict.fromkeys(self.hidden, True)

    @property
    def read_only_names(self) -> dict[str, bool]:
        return dict.fromkeys(set(self.read_only) | set(self.masked), True)


def _cache(user: Any) -> dict[Any, Any]:
    """Per-request memo kept on the user object (a fresh object per request), dropped by any security
    change made in this process (``selectors.note_local_change``)."""
    from kith.security.selectors import _local

    memo = getattr(user, "_kith_masking", None)
    if memo is None or memo.get("_changes") != _local["changes"]:
        memo = {"_changes": _local["changes"]}
        with contextlib.suppress(AttributeError):  # AnonymousUser and friends
            user._kith_masking = memo
    return memo  # type: ignore[no-any-return]


def forget(user: Any) -> None:
    """Drop what was worked out for ``user`` in this request (after a grant, a decision, a rule change)."""
    if hasattr(user, "_kith_masking"):
        del user._kith_masking


def _rules(user: Any) -> dict[tuple[str, str], str]:
    """(object type, field) -> the user's effective access, for fields where it is less than editable."""
    memo = _cache(user)
    if "rules" in memo:
        return memo["rules"]  # type: ignore[no-any-return]
    from kith.security.rules import is_signed_in
    from kith.security.selectors import holding

    effective: dict[tuple[str, str], str] = {}
    if is_signed_in(user) and not user.is_superuser:
        codes = holding(user).role_codes
        per_field: dict[tuple[str, str], dict[str, str]] = {}
        for code, object_type, name, access in _all_rules(user):
            if code in codes:
                per_field.setdefault((object_type, name), {})[code] = access
        for key, by_role in per_field.items():
            # a role without a rule for the field edits it: the most permissive wins
            if len(by_role) < len(codes):
                continue
            best = max(by_role.values(), key=lambda a: _RANK.get(a, 2))
            if best != FieldAccess.EDIT:
                effective[key] = best
    memo["rules"] = effective
    return effective


def _generation(user: Any) -> int:
    from kith.security.selectors import _generation as generation

    return generation(user)


def _all_rules(user: Any) -> list[tuple[str, str, str, str]]:
    """Every field rule as (role code, object type, field, access), from the cache per security
    generation (rule changes move it on)."""
    key = f"kith.security.field_rules:{_generation(user)}"
    rows = cache.get(key)
    if rows is None:
        rows = list(FieldRule.objects.values_list("role__code", "object_type", "field", "access"))
        cache.set(key, rows, CACHE_SECONDS)
    return rows  # type: ignore[no-any-return]


def field_access(user: Any, object_type: str, name: str) -> str:
    """``user``'s access to one field by the field rules alone: hidden, read or edit."""
    return _rules(user).get((object_type, name), FieldAccess.EDIT)


_SENSITIVE_BY_GENERATION: dict[tuple[str, int], dict[str, SensitiveField]] = {}


def _sensitive_now(user: Any, object_type: str) -> dict[str, SensitiveField]:
    memo = _cache(user)
    key = f"sensitive:{object_type}"
    if key not in memo:
        # admin-marked fields change the security generation too (see ``kith.parties.sensitive``). Kept in
        # this process per generation, not in the shared cache: unpickling the entries' lazy labels on
        # every request cost more than the search they guard.
        generation = (object_type, _generation(user))
        found = _SENSITIVE_BY_GENERATION.get(generation)
        if found is None:
            found = sensitive_fields(object_type)
            if len(_SENSITIVE_BY_GENERATION) > 64:
                _SENSITIVE_BY_GENERATION.clear()
            _SENSITIVE_BY_GENERATION[generation] = found
        memo[key] = found
    return memo[key]


def _clearance(user: Any) -> bool:
    from kith.security.rules import has_clearance

    return has_clearance(user)


@dataclass(frozen=True)
class Grant:
    request_id: int
    fields: frozenset[str]  # empty: every sensitive field
    purpose: str
    expires_at: dt.datetime | None = None


def _approved(user: Any) -> list[tuple[Any, ...]]:
    """All of ``user``'s approved, unexpired access requests, read once per security generation (a
    decision moves it on: ``access_request_saved``) and kept in the cache: most users have none, and a
    list page would otherwise ask the database for every request."""
    memo = _cache(user)
    if "approved" not in memo:
        key = f"kith.security.approved:{_generation(user)}:{user.pk}"
        rows = cache.get(key)
        if rows is None:
            rows = list(
                AccessRequest.objects.filter(
                    requester_id=user.pk, status=AccessRequestStatus.APPROVED, expires_at__gt=timezone.now()
                )
                .order_by("id")
                .values_list("object_type", "object_id", "id", "fields", "purpose", "expires_at")
            )
            cache.set(key, rows, CACHE_SECONDS)
        memo["approved"] = rows
    return memo["approved"]  # type: ignore[no-any-return]


def access_request_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """An approval, rejection, withdrawal or expiry changes what its requester sees: move the security
    generation on (every process then reads the requester's grants again)."""
    if instance.status != AccessRequestStatus.PENDING:
        from kith.security.services import changed

        changed()


def active_grants(user: Any, object_type: str, object_ids: Iterable[int]) -> dict[int, Grant]:
    """Approved, unexpired access requests of ``user`` for these records."""
    ids = {int(i) for i in object_ids if i is not None}
    if not ids or not getattr(user, "pk", None):
        return {}
    found: dict[int, Grant] = {}
    now = timezone.now()
    for kind, object_id, request_id, names, purpose, expires_at in _approved(user):
        if kind != object_type or object_id not in ids or expires_at is None or expires_at <= now:
            continue
        names = frozenset(names or [])
        if object_id in found:
            before = found[object_id]
            names = frozenset() if not names or not before.fields else before.fields | names
            if before.expires_at is not None:
                expires_at = (
                    min(expires_at, before.expires_at) if expires_at is not None else before.expires_at
                )
        found[object_id] = Grant(request_id, names, purpose, expires_at)
    return found


def _build(
    user: Any,
    object_type: str,
    record_kind: str,
    grant: Grant | None,
    *,
    cleared: bool,
    sensitive: dict[str, SensitiveField],
) -> FieldView:
    rules = _rules(user)
    hidden = {
        name for (t, name), access in rules.items() if t == object_type and access == FieldAccess.HIDDEN
    }
    read_only = {
        name for (t, name), access in rules.items() if t == object_type and access == FieldAccess.READ
    }
    masked: dict[str, SensitiveField] = {}
    granted: set[str] = set()
    if not cleared:
        for name, entry in sensitive.items():
            if name in hidden or not entry.applies(record_kind):
                continue
            if grant is not None and (not grant.fields or name in grant.fields):
                granted.add(name)
                continue
            masked[name] = entry
    return FieldView(
        object_type=object_type,
        hidden=frozenset(hidden),
        masked=masked,
        read_only=frozenset(read_only),
        grant_id=grant.request_id if grant is not None and granted else None,
        granted=frozenset(granted),
        purpose=grant.purpose if grant is not None and granted else "",
        grant_expires_at=grant.expires_at if grant is not None and granted else None,
    )


def field_view(user: Any, record: Any, *, object_type: str = "customer") -> FieldView:
    """What ``user`` may do with each field of ``record`` (cached per request and record).

    ``record`` is a model instance or a row dict with ``id`` and ``kind``; ``None`` is a record being
    created (field rules only: nothing is masked in what the user types themself)."""
    if record is None:
        return _build(user, object_type, "", None, cleared=True, sensitive={})
    pk, kind = _key(record)
    memo = _cache(user)
    cache_key = ("view", object_type, pk, kind)
    if cache_key in memo and not memo[cache_key].stale:
        return memo[cache_key]  # type: ignore[no-any-return]
    cleared = _clearance(user)
    sensitive = {} if cleared else _sensitive_now(user, object_type)
    grant = None
    if not cleared and any(entry.applies(kind) for entry in sensitive.values()):
        grant = active_grants(user, object_type, [pk]).get(pk)
    view = _build(user, object_type, kind, grant, cleared=cleared, sensitive=sensitive)
    memo[cache_key] = view
    return view


def field_views(user: Any, records: Iterable[Any], *, object_type: str = "customer") -> dict[int, FieldView]:
    """``field_view`` for many records (a list page) with one query for their grants."""
    keyed = [_key(r) for r in records]
    memo = _cache(user)
    cleared = _clearance(user)
    sensitive = {} if cleared else _sensitive_now(user, object_type)
    todo = [
        (pk, kind)
        for pk, kind in keyed
        if ("view", object_type, pk, kind) not in memo or memo[("view", object_type, pk, kind)].stale
    ]
    grants: dict[int, Grant] = {}
    if todo and not cleared and sensitive:
        grants = active_grants(user, object_type, [pk for pk, _kind in todo])
    for pk, kind in todo:
        memo[("view", object_type, pk, kind)] = _build(
            user, object_type, kind, grants.get(pk), cleared=cleared, sensitive=sensitive
        )
    return {pk: memo[("view", object_type, pk, kind)] for pk, kind in keyed}


def _key(record: Any) -> tuple[int, str]:
    if isinstance(record, dict):
        return int(record["id"]), str(record.get("kind") or "")
    return int(record.pk), str(getattr(record, "kind", "") or "")


def sees_unmasked(user: Any, record: Any, *, object_type: str = "customer") -> bool:
    """Whether nothing of ``record`` is masked or hidden for ``user`` (clearance or a full grant)."""
    view = field_view(user, record, object_type=object_type)
    return not view.masked and not view.hidden


# --- writes -------------------------------------------------------------------------------------------
def locked_fields(actor: Any, object_type: str, record: Any) -> set[str]:
    """The fields ``actor`` may not change on ``record`` (hidden, read-only or masked); none for Kith."""
    if actor is None:
        return set()
    view = field_view(actor, record, object_type=object_type)
    return set(view.hidden) | set(view.read_only) | set(view.masked)


def error_key(name: str) -> str:
    return name


def check_writable(
    actor: Any, object_type: str, changed_fields: Iterable[str], *, record: Any = None
) -> None:
    """Refuse, with a field error each, changes to fields ``actor`` may not change: hidden or read-only
    by their roles' field rules, or (on an existing ``record``) masked for them. ``actor=None`` is Kith
    itself (demo loader, jobs) and is not checked."""
    if actor is None:
        return
    names = list(dict.fromkeys(changed_fields))
    if not names:
        return
    view = field_view(actor, record, object_type=object_type)
    errors: dict[str, list[str]] = {}
    for name in names:
        if name in view.hidden:
            errors[error_key(name)] = [_("You may not change this field.")]
        elif name in view.read_only:
            errors[error_key(name)] = [_("This field is read-only for you.")]
        elif name in view.masked:
            errors[error_key(name)] = [
                _(
                    "This field is masked for you: request access to the customer's sensitive data to change it."
                )
            ]
    if errors:
        raise ValidationError(errors)


def may_filter_by(user: Any, object_type: str, name: str) -> bool:
    """Whether ``user`` may find records by the value of ``name`` (see ``check_filterable``)."""
    if _rules(user).get((object_type, name)) == FieldAccess.HIDDEN:
        return False
    return _clearance(user) or name not in _sensitive_now(user, object_type)


def check_filterable(
    user: Any, object_type: str, names: Iterable[str], *, param: Callable[[str], str] = str
) -> None:
    """Refuse filtering or searching by a field ``user`` may not see in full across records: hidden by
    their rules, or sensitive without clearance (a per-record grant does not open a search over all)."""
    names = list(names)
    if not names:
        return
    rules = _rules(user)
    sensitive = {} if _clearance(user) else _sensitive_now(user, object_type)
    errors = {
        param(name): [_("You may not search by this field.")]
        for name in names
        if rules.get((object_type, name)) == FieldAccess.HIDDEN or name in sensitive
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_field_rules(*, actor: Any, role: Role, object_type: str, rules: dict[str, str]) -> int:
    """Set ``role``'s access to fields of ``object_type`` (editable removes the rule: it is the default).
    Needs ("security", "administer"); each rule change is audited; takes effect at once. Returns the
    number of rules changed."""
    from kith.security.rules import ADMINISTER, require_permission
    from kith.security.services import changed

    if actor is not None:
        require_permission(actor, "security", ADMINISTER)
    known = dict(fields_of(object_type))
    errors: dict[str, list[str]] = {}
    for name, access in rules.items():
        if name not in known:
            errors[name] = [_("Unknown field.")]
        elif access not in FieldAccess.values:
            errors[name] = [_("Choose hidden, read-only or editable.")]
    if errors:
        raise ValidationError(errors)
    existing = {r.field: r for r in FieldRule.objects.filter(role=role, object_type=object_type)}
    count = 0
    for name, access in rules.items():
        rule = existing.get(name)
        if access == FieldAccess.EDIT:
            if rule is not None:
                rule.delete()
                count += 1
        elif rule is None:
            FieldRule.objects.create(role=role, object_type=object_type, field=name, access=access)
            count += 1
        elif rule.access != access:
            rule.access = access
            rule.save(update_fields=["access"])
            count += 1
    if count:
        changed()
    return count


# --- applying a view to output ------------------------------------------------------------------------
def apply_to_dict(view: FieldView, data: dict[str, Any]) -> dict[str, Any]:
    """A serialized record (API) as ``view`` lets its user see it: hidden fields removed, sensitive ones
    masked (also in ``custom_data`` and in lists of related rows). Returns a new dict."""
    out = dict(data)
    custom = dict(out.get("custom_data") or {}) if "custom_data" in out else None
    for name in view.hidden:
        if name.startswith(CUSTOM_PREFIX):
            if custom is not None:
                custom.pop(name[len(CUSTOM_PREFIX) :], None)
        else:
            out.pop(name, None)
    for name, entry in view.masked.items():
        if name.startswith(CUSTOM_PREFIX):
            key = name[len(CUSTOM_PREFIX) :]
            if custom is not None and key in custom:
                custom[key] = mask(entry.kind, custom[key])
        elif entry.item_attrs and isinstance(out.get(name), list):
            out[name] = [_mask_item(entry, item) for item in out[name]]
        elif name in out:
            out[name] = mask(entry.kind, out[name]) if out[name] not in (None, "") else out[name]
    if custom is not None:
        out["custom_data"] = custom
    return out


def _mask_item(entry: SensitiveField, item: Any) -> Any:
    if isinstance(item, dict):
        item = dict(item)
        for attr in entry.item_attrs:
            if attr in item:
                item[attr] = mask(entry.kind, item[attr])
        return item
    item = copy.copy(item)
    for attr in entry.item_attrs:
        setattr(item, attr, mask(entry.kind, getattr(item, attr, "")))
    return item


def apply_to_row(view: FieldView, row: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """A list row in place: ``columns`` maps a row key to the field it shows (``primary_phone`` ->
    ``phones``); hidden ones are emptied, masked ones masked. Returns the row."""
    for column, name in columns.items():
        if column not in row or row[column] in (None, ""):
            continue
        if name in view.hidden:
            row[column] = ""
        elif name in view.masked:
            row[column] = mask(view.masked[name].kind, row[column])
            row[f"{column}_masked"] = True
    return row


def masked_record(view: FieldView, record: Any) -> Any:
    """A copy of a model instance for display: hidden fields emptied, sensitive ones replaced by their
    masked text (never saved: it exists only to be rendered)."""
    shown = copy.copy(record)
    custom = dict(getattr(record, "custom_data", None) or {})
    for name in view.hidden:
        if name.startswith(CUSTOM_PREFIX):
            custom.pop(name[len(CUSTOM_PREFIX) :], None)
        elif hasattr(shown, name) and not callable(getattr(type(shown), name, None)):
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                setattr(shown, name, None if getattr(record, name) is None else "")
    for name, entry in view.masked.items():
        if name.startswith(CUSTOM_PREFIX):
            key = name[len(CUSTOM_PREFIX) :]
            if key in custom:
                custom[key] = mask(entry.kind, custom[key])
        elif not entry.item_attrs and hasattr(shown, name):
            value = getattr(record, name)
            if value not in (None, ""):
                setattr(shown, name, mask(entry.kind, value))
    if hasattr(shown, "custom_data"):
        shown.custom_data = custom
    shown.save = _refuse_save  # a display copy must never be written back
    return shown


def _refuse_save(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a masked display copy cannot be saved")


def mask_items(view: FieldView, name: str, items: Iterable[Any]) -> list[Any]:
    """Rows of a related list (``phones``) as ``view`` lets its user see them (hidden: none)."""
    if name in view.hidden:
        return []
    entry = view.masked.get(name)
    if entry is None:
        return list(items)
    return [_mask_item(entry, item) for item in items]


# --- the audit trail ----------------------------------------------------------------------------------
# audit object types whose entries hold a record's sensitive fields: audit type -> (record type, rename)
_AUDITED: dict[str, tuple[str, dict[str, str]]] = {}


def register_audited(audit_type: str, object_type: str, fields: dict[str, str] | None = None) -> None:
    """Entries of ``audit_type`` (``parties.phone``) are about ``object_type`` records (found through the
    entry's ``customer_id``); ``fields`` maps the entry's field names to the record's (``number`` ->
    ``phones``). Without ``fields`` the names are the record's own."""
    _AUDITED[audit_type] = (object_type, dict(fields or {}))


def mask_audit_entries(user: Any, entries: Iterable[Any]) -> list[Any]:
    """Audit entries with the before/after values of sensitive (and hidden) fields masked for ``user``.
    Encrypted values are opened first. The entries are copies: the stored, hash-chained ones are never
    touched."""
    entries = [_opened(e) for e in entries]
    if _clearance(user) and not _rules(user):
        return entries
    wanted = [e for e in entries if e.object_type in _AUDITED and e.customer_id]
    if not wanted:
        return entries
    record_type = "customer"
    from kith.security.access_requests import record_kinds

    kinds = record_kinds(record_type, {int(e.customer_id) for e in wanted})
    views = field_views(
        user, [{"id": pk, "kind": kind} for pk, kind in kinds.items()], object_type=record_type
    )
    out = []
    for entry in entries:
        mapping = _AUDITED.get(entry.object_type)
        view = views.get(int(entry.customer_id)) if mapping and entry.customer_id else None
        out.append(_mask_entry(entry, view, mapping[1]) if view is not None and mapping else entry)
    return out


def _opened(entry: Any) -> Any:
    changes = reveal_changes(entry.object_type, entry.changes)
    if changes is entry.changes:
        return entry
    shown = copy.copy(entry)
    shown.changes = changes
    shown.save = _refuse_save
    return shown


def _mask_entry(entry: Any, view: FieldView, rename: dict[str, str]) -> Any:
    changes = entry.changes or {}
    if not isinstance(changes, dict):
        return entry
    masked_changes: dict[str, Any] = {}
    touched = False
    for name, change in changes.items():
        target = rename.get(name, name)
        if name == "custom_data" and isinstance(change, list) and len(change) == 2:
            masked_changes[name] = [_mask_custom(view, side) for side in change]
            touched = touched or masked_changes[name] != change
            continue
        if target in view.hidden or target in view.masked:
            touched = True
            if target in view.hidden:
                masked_changes[name] = (
                    [None if v is None else "—" for v in change] if isinstance(change, list) else "—"
                )
            else:
                kind = view.masked[target].kind
                masked_changes[name] = (
                    [None if v is None else mask(kind, v) for v in change]
                    if isinstance(change, list)
                    else mask(kind, change)
                )
        else:
            masked_changes[name] = change
    repr_target = rename.get("__str__")
    if not touched and not repr_target:
        return entry
    shown = copy.copy(entry)
    shown.changes = masked_changes
    if repr_target and repr_target in view.masked:
        shown.object_repr = mask(view.masked[repr_target].kind, entry.object_repr)
    elif repr_target and repr_target in view.hidden:
        shown.object_repr = "—"
    shown.save = _refuse_save
    return shown


def _mask_custom(view: FieldView, side: Any) -> Any:
    if not isinstance(side, dict):
        return side
    out = {}
    for key, value in side.items():
        name = CUSTOM_PREFIX + key
        if name in view.hidden:
            continue
        entry = view.masked.get(name)
        out[key] = mask(entry.kind, value) if entry is not None else value
    return out
