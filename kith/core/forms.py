"""Form helpers shared by every domain."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet


def apply_service_errors(
    error: ValidationError,
    form: forms.Form,
    *,
    formsets: dict[str, tuple[BaseFormSet, list[int]]] | None = None,
    aliases: dict[str, str] | None = None,
) -> None:
    """Turn a service's ``ValidationError`` into field errors on ``form`` (and on formset rows).

    ``formsets`` maps a service list name (``phones``) to the formset and, for each item passed to the
    service, the index of the formset row it came from. ``aliases`` renames service keys to form fields.
    """
    formsets = formsets or {}
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        parts = key.split(".")
        if parts[0] in formsets and len(parts) == 3 and parts[1].isdigit():
            formset, rows = formsets[parts[0]]
            index = int(parts[1])
            if index < len(rows):
                row_form = formset.forms[rows[index]]
                field = parts[2] if parts[2] in row_form.fields else None
                for message in messages:
                    row_form.add_error(field, message)
                continue
        is_custom = parts[0] == "custom" and len(parts) == 2
        name = f"cf_{parts[1]}" if is_custom else aliases.get(key, key)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
