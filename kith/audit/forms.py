"""Forms of the audit app: the access-alert thresholds."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.audit.watch import MAX_THRESHOLD


class ThresholdsForm(forms.Form):
    views = forms.IntegerField(
        label=_("Customers viewed per user per day"),
        min_value=0,
        max_value=MAX_THRESHOLD,
        help_text=_("Customer pages opened (web and API). 0 turns the alert off."),
    )
    search = forms.IntegerField(
        label=_("Customers listed by searches per user per day"),
        min_value=0,
        max_value=MAX_THRESHOLD,
        help_text=_("Rows on the search result pages and API lists. 0 turns the alert off."),
    )
    export = forms.IntegerField(
        label=_("Rows exported per user per day"),
        min_value=0,
        max_value=MAX_THRESHOLD,
        help_text=_("0 turns the alert off."),
    )
