"""Checking and converting custom-field values against their admin-set definitions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from kith.parties.choices import CustomFieldType, KindScope
from kith.parties.models import CustomFieldDefinition

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


def definitions_for(kind: str, *, include_retired: bool = False) -> list[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.filter(applies_to__in=[KindScope.ANY, kind])
    if not include_retired:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("position", "label"))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """Return the JSON-storable value (dates as ISO text, decimals as text) or raise ValidationError."""
    if _empty(value):
        if definition.required:
            raise ValidationError(_("This field is required."))
        return None
    kind = definition.field_type
    if kind in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT):
        text = str(value).strip()
        if definition.max_length and len(text) > definition.max_length:
            raise ValidationError(
                _("At most %(limit)d characters (this has %(count)d).")
                % {"limit": definition.max_length, "count": len(text)}
            )
        if definition.pattern and not re.fullmatch(definition.pattern, text):
            raise ValidationError(_("The value does not have the required format."))
        return text
    if kind in (CustomFieldType.INTEGER, CustomFieldType.DECIMAL):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValidationError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        if kind == CustomFieldType.INTEGER and number != number.to_integral_value():
            raise ValidationError(_("Enter a whole number."))
        if definition.min_value is not None and number < definition.min_value:
            raise ValidationError(
                _("The smallest allowed value is %(v)s.") % {"v": definition.min_value.normalize()}
            )
        if definition.max_value is not None and number > definition.max_value:
            raise ValidationError(
                _("The largest allowed value is %(v)s.") % {"v": definition.max_value.normalize()}
            )
        return int(number) if kind == CustomFieldType.INTEGER else str(number)
    if kind == CustomFieldType.DATE:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as exc:
            raise ValidationError(_("Enter a valid date (YYYY-MM-DD).")) from exc
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(_("Enter yes or no."))
    if kind == CustomFieldType.CHOICE:
        text = str(value)
        if text not in definition.choices:
            raise ValidationError(_("“%(value)s” is not one of the available choices.") % {"value": text})
        return text
    if kind == CustomFieldType.MULTI_CHOICE:
        items = value if isinstance(value, list | tuple) else [v.strip() for v in str(value).split(",")]
        items = [str(v) for v in items if str(v)]
        bad = [v for v in items if v not in definition.choices]
        if bad:
            raise ValidationError(
                _("Not among the available choices: %(values)s.") % {"values": ", ".join(bad)}
            )
        if definition.required and not items:
            raise ValidationError(_("This field is required."))
        return items or None
    if kind == CustomFieldType.URL:
        text = str(value).strip()
        URLValidator()(text)
        return text
    if kind == CustomFieldType.EMAIL:
        text = str(value).strip()
        validate_email(text)
        return text
    raise ValidationError(_("Unknown field type."))


def clean_custom_data(
    *,
    kind: str,
    values: dict[str, Any],
    existing: dict[str, Any] | None = None,
    partial: bool = False,
    definitions: Sequence[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Merge ``values`` into ``existing``: validated per definition; unknown keys refused.

    Keys of retired definitions and of definitions for the other kind are kept untouched, so editing or
    retiring a definition never loses a stored value.
    """
    result = dict(existing or {})
    by_key = {d.key: d for d in (definitions_for(kind) if definitions is None else definitions)}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in by_key:
            errors[f"custom.{key}"] = [_("There is no active custom field “%(key)s”.") % {"key": key}]
    for key, definition in by_key.items():
        if key not in values:
            if not partial and definition.required and _empty(result.get(key)):
                errors[f"custom.{key}"] = [_("This field is required.")]
            continue
        try:
            cleaned = clean_value(definition, values[key])
        except ValidationError as exc:
            errors[f"custom.{key}"] = list(exc.messages)
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    if errors:
        raise ValidationError(errors)
    return result
