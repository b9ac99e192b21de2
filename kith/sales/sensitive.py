"""What of a lead or a deal is sensitive and which of their fields field rules may name: the sales side of
``kith.security.masking`` (wired in ``apps.py``), and the display copies every sales channel shows."""

from __future__ import annotations

import copy as copy_module
from typing import Any

from django.utils.translation import gettext_lazy as _

from kith.sales.choices import LEAD, OPPORTUNITY
from kith.security import masking

# A lead's phone is personal data of someone who is not a customer yet: masked without clearance, like a
# person's phones. Its email is not (customer emails are not sensitive either): field rules can hide it.
LEAD_SENSITIVE = {"phone": (masking.PHONE, _("phone"))}
# list/export columns that show a field under another name: column -> field
LEAD_COLUMNS = {"phone_raw": "phone"}
# API body keys that show a field under another name, per object type: key -> field
BODY_KEYS = {
    LEAD: LEAD_COLUMNS,
    OPPORTUNITY: {"customer_name": "customer", "opportunity_name": "name"},
}
# an approval's reasons quote the deal's amount and discount
APPROVAL_KEYS = {"reasons": ("amount", "discount_percent")}
# the form shows the phone as typed
LEAD_RAW = {"phone": "phone_raw"}


def _labelled(model_path: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
    from django.apps import apps

    model = apps.get_model(model_path)
    return [(name, str(model._meta.get_field(name).verbose_name)) for name in names]


def lead_fields() -> list[tuple[str, str]]:
    """Every lead field a field rule may name: those a user enters (``lead_update``'s fields)."""
    from kith.sales.services.leads import FIELDS

    return _labelled("sales.Lead", FIELDS)


def opportunity_fields() -> list[tuple[str, str]]:
    """Every deal field a field rule may name: those ``opportunity_update`` changes (not the lead it came
    from; the stage moves on the board)."""
    from kith.sales.services.opportunities import FIELDS

    return _labelled("sales.Opportunity", tuple(f for f in FIELDS if f != "lead"))


def register() -> None:
    for name, (kind, label) in LEAD_SENSITIVE.items():
        masking.register_sensitive(LEAD, name, kind=kind, label=label)
    masking.register_fields(LEAD, lead_fields)
    masking.register_fields(OPPORTUNITY, opportunity_fields)


# --- display copies -----------------------------------------------------------------------------------
def shown(view: masking.FieldView, record: Any) -> Any:
    """A display copy of a lead or a deal as ``view`` lets its user see it (``masking.masked_record``),
    the lead's phone as typed (``phone_raw``) following its phone, and a hidden related field (owner,
    category, customer) left out. Never saved."""
    copy = masking.masked_record(view, record)
    for column, name in LEAD_COLUMNS.items():
        if hasattr(copy, column) and (name in view.hidden or name in view.masked):
            value = getattr(record, column)
            if value:
                setattr(
                    copy, column, "" if name in view.hidden else masking.mask(view.masked[name].kind, value)
                )
    relations = [f for f in (_relation(record, name) for name in view.hidden) if f is not None]
    if relations:
        # the ids and the cached related objects go (the copy gets its own state: the record keeps them)
        state = copy_module.copy(record._state)
        gone = {f.name for f in relations}
        state.fields_cache = {k: v for k, v in record._state.fields_cache.items() if k not in gone}
        copy._state = state
        for field in relations:
            setattr(copy, field.attname, None)
    return copy


def _relation(record: Any, name: str) -> Any:
    try:
        field = record._meta.get_field(name)
    except Exception:  # not a model field (a display name, a custom field)
        return None
    return field if getattr(field, "many_to_one", False) else None


def shown_all(user: Any, records: list[Any], *, object_type: str) -> list[Any]:
    """Display copies of a page of records, with one query for the grants (``masking.field_views``)."""
    views = masking.field_views(user, records, object_type=object_type)
    if not any(v.hidden or v.masked for v in views.values()):
        return records
    return [shown(views[r.pk], r) for r in records]


def lock_form(form: Any, view: masking.FieldView, record: Any = None) -> frozenset[str]:
    """Apply ``view`` to an edit form: hidden fields removed, read-only ones disabled, masked ones disabled
    and showing their masked value. Returns the names the caller must not send to the service (a disabled
    field's value is its initial one: a masked text must never be saved)."""
    locked: set[str] = set()
    for name in list(form.fields):
        if name in view.hidden:
            del form.fields[name]
            locked.add(name)
        elif name in view.masked or name in view.read_only:
            form.fields[name].disabled = True
            locked.add(name)
            if name in view.masked and record is not None:
                value = getattr(record, LEAD_RAW.get(name, name), None) or getattr(record, name, None)
                form.initial[name] = masking.mask(view.masked[name].kind, value)
    return frozenset(locked)


def unlocked(data: dict[str, Any], locked: frozenset[str]) -> dict[str, Any]:
    """``data`` without the fields the form locked (they keep their stored value)."""
    return {k: v for k, v in data.items() if k not in locked}


def as_seen(view: masking.FieldView, data: dict[str, Any]) -> dict[str, Any]:
    """An API body of a lead or a deal as ``view`` lets its user see it (``masking.apply_to_dict``; the
    lead's phone as typed follows its phone)."""
    out = masking.apply_to_dict(view, data)
    for column, name in BODY_KEYS.get(view.object_type, {}).items():
        if column in out and (name in view.hidden or name in view.masked):
            if name in view.hidden:
                out.pop(column)
            elif out[column]:
                out[column] = masking.mask(view.masked[name].kind, out[column])
    return out


def approval_as_seen(view: masking.FieldView, data: dict[str, Any]) -> dict[str, Any]:
    """An approval's body as the deal's ``view`` lets its user see it: its amount, discount and the deal's
    name as on the deal; its reasons (which quote them) left out when one of them is hidden."""
    out = as_seen(view, data)
    for key, names in APPROVAL_KEYS.items():
        if key in out and any(n in view.hidden or n in view.masked for n in names):
            out.pop(key)
    return out


def approval_bodies(user: Any, approvals: list[Any], serializer: Any) -> list[dict[str, Any]]:
    views = masking.field_views(user, [{"id": a.opportunity_id} for a in approvals], object_type=OPPORTUNITY)
    return [approval_as_seen(views[a.opportunity_id], dict(serializer(a).data)) for a in approvals]


def bodies(user: Any, records: list[Any], serializer: Any, *, object_type: str) -> list[dict[str, Any]]:
    """Serialized records as ``user`` may see each (one query for the grants of the page)."""
    views = masking.field_views(user, records, object_type=object_type)
    return [as_seen(views[r.pk], dict(serializer(r).data)) for r in records]


def posted_changes(form: Any, locked: frozenset[str]) -> list[str]:
    """The locked fields a POST still tries to change: a browser sends no disabled or removed field, so a
    value for one that differs from what the form showed is an attempt to write it (the caller hands the
    names to ``masking.check_writable``, which answers with a field error each)."""
    names = []
    for name in sorted(locked):
        if name not in form.data:
            continue
        if name not in form.fields:  # hidden: removed from the form
            names.append(name)
            continue
        shown_value = form.initial.get(name, form.fields[name].initial)
        if (
            str(form.data.get(name) or "").strip()
            != ("" if shown_value is None else str(shown_value)).strip()
        ):
            names.append(name)
    return names
