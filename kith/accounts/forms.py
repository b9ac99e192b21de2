"""Forms of the account pages: sign-in with lockout, one-time codes, user creation, stale report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kith.accounts import policy, services


class LoginForm(AuthenticationForm):
    """Django's sign-in form that names a lockout instead of calling it a wrong password."""

    def clean(self) -> dict[str, Any]:
        refusal = services.login_refusal(
            username=self.cleaned_data.get("username"), address=policy.client_address(self.request)
        )
        if refusal:
            raise forms.ValidationError(refusal, code="locked")
        return super().clean()


class OneTimeCodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        field = get_user_model()._meta.get_field("username")
        for validator in field.validators:
            validator(username)
        return username


class StaleForm(forms.Form):
    days = forms.IntegerField(label=_("No sign-in for (days)"), min_value=1, max_value=3650, initial=90)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses it, e.g. “ERP sync”."))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple, choices=())
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=366, initial=90)
    user = forms.ModelChoiceField(
        label=_("For account (service token)"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("Empty: a personal token of yours."),
    )

    def __init__(self, *args: Any, administers: bool = False, **kwargs: Any) -> None:
        from kith.security.tokens import scope_choices

        super().__init__(*args, **kwargs)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        scopes.choices = scope_choices()
        if administers:
            user = self.fields["user"]
            assert isinstance(user, forms.ModelChoiceField)
            user.queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        else:
            del self.fields["user"]
