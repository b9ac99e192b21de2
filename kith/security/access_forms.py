"""Forms of the access-request and field-rule pages. They shape input; the rules are in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.security.access_requests import MAX_COMMENT, MAX_PURPOSE, MIN_PURPOSE
from kith.security.models import FieldAccess


class AccessRequestForm(forms.Form):
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=MAX_PURPOSE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need this customer's sensitive data (at least %(n)d characters).")
        % {"n": MIN_PURPOSE},
    )
    fields = forms.MultipleChoiceField(  # type: ignore[assignment]  # the metaclass collects it
        label=_("Fields"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to ask for every masked field."),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = choices  # type: ignore[index]


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=MAX_COMMENT, required=False)


class FieldRulesForm(forms.Form):
    """One choice per field of the object type: hidden, read-only or editable (for one role)."""

    def __init__(
        self, *args: Any, fields: list[tuple[str, str]], current: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.names: dict[str, str] = {}
        for index, (name, label) in enumerate(fields):
            key = f"f{index}"
            self.names[key] = name
            self.fields[key] = forms.ChoiceField(
                label=label,
                choices=FieldAccess.choices,
                initial=current.get(name, FieldAccess.EDIT),
                widget=forms.RadioSelect,
            )

    def rules(self) -> dict[str, str]:
        return {self.names[key]: value for key, value in self.cleaned_data.items() if key in self.names}
