"""The webhook form (validation of substance is the service's: its errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kith.webhooks import selectors
from kith.webhooks.choices import ALL_EVENTS


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What receives it, e.g. “ERP sync”."))
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text=_("Kith POSTs each event here as JSON, signed with the webhook's secret."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, choices=(), required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Sees as"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("The webhook gets only the records and fields this account may see. Empty: you."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, superuser: bool = False, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "url"):  # the service checks them, so every error shows at once
            self.fields[name].required = False
            self.fields[name].show_required = True  # type: ignore[attr-defined]
        event_types = self.fields["event_types"]
        assert isinstance(event_types, forms.MultipleChoiceField)
        event_types.choices = [
            (ALL_EVENTS, _("Every event (also those added later)")),
            *selectors.event_type_choices(),
        ]
        if superuser:
            owner = self.fields["owner"]
            assert isinstance(owner, forms.ModelChoiceField)
            owner.queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        else:
            del self.fields["owner"]
        if not editing:
            del self.fields["active"]
