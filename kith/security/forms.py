"""Forms of the access-control pages. They only shape input; the rules are in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.security.models import Access, Role, ShareAccess, Team, User
from kith.security.rules import ACTIONS, object_types


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    parent = forms.ModelChoiceField(label=_("Part of"), queryset=Team.objects.all(), required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class UserAccessForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=User.objects.filter(is_active=True).order_by("username"), required=False
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"), queryset=Role.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = self.fields["manager"].queryset.exclude(pk=user.pk)  # type: ignore[attr-defined]


class RoleForm(forms.Form):
    """The role's name and extras; the permission matrix comes as ``perm`` checkboxes ("type.action")."""

    code = forms.SlugField(label=_("Code"), max_length=50)
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    require_two_factor = forms.BooleanField(label=_("Requires two-factor authentication"), required=False)
    sensitive_clearance = forms.BooleanField(
        label=_("Sees sensitive fields unmasked"),
        required=False,
        help_text=_("Without it, sensitive fields are masked until an access request is approved."),
    )
    is_default = forms.BooleanField(label=_("Given to new users"), required=False)
    sees_all = forms.BooleanField(
        label=_("Reads every record"),
        required=False,
        help_text=_("Whoever owns it, for the types the role may view (auditors)."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def matrix(selected: set[str]) -> list[dict[str, Any]]:
    """Rows of the permission matrix for the template: one per object type, a cell per action."""
    rows = []
    for t in object_types():
        cells = []
        for action in ACTIONS:
            key = f"{t.key}.{action}"
            cells.append({"key": key, "available": action in t.actions, "checked": key in selected})
        rows.append({"type": t, "cells": cells})
    return rows


class VisibilityForm(forms.Form):
    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for t in object_types():
            if t.model:
                self.fields[t.key] = forms.ChoiceField(
                    label=str(t.label).capitalize(),
                    choices=Access.choices,
                    initial=current.get(t.key, Access.PRIVATE),
                )


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("User"), queryset=User.objects.filter(is_active=True).order_by("username"), required=False
    )
    team = forms.ModelChoiceField(label=_("or team"), queryset=Team.objects.all(), required=False)
    access = forms.ChoiceField(label=_("Access"), choices=ShareAccess.choices, initial=ShareAccess.READ)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError(_("Choose one user or one team."))
        return data


class KeyJobForm(forms.Form):
    """Confirming a re-encryption or a rotation (Settings → Encryption keys), with its one option."""

    indexes = forms.BooleanField(required=False)

    def __init__(self, *args: Any, rotate: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indexes"].label = (
            _("Also replace the blind-index key (every index is computed again)")
            if rotate
            else _("Also compute every blind index again")
        )
        self.fields["indexes"].help_text = (
            _(
                "Exact lookups of phone and ID numbers may miss some customers while the indexes are "
                "computed. Restart every kith serve and kith worker afterwards: until then they look up "
                "with the old index key."
            )
            if rotate
            else _(
                "Exact lookups of phone and ID numbers may miss some customers while the indexes are computed."
            )
        )
