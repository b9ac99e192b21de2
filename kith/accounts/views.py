"""Account pages: sign-in, password change, two-factor enrolment and verification, the users admin and the
stale-account report. Thin: forms validate, services write, selectors read."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kith.accounts import forms, selectors, services
from kith.security import rules, tokens
from kith.security.models import ApiToken

User = get_user_model()


def _after_gate(request: HttpRequest) -> HttpResponse:
    """Next owed step (the middleware redirects there) or the home page."""
    return redirect(resolve_url(settings.LOGIN_REDIRECT_URL))


def _add_form_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                form.add_error(field if field in form.fields else None, item)
    else:
        form.add_error(None, error)


# --- sign-in -------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = forms.LoginForm

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        gates = services.login_gates(user=form.get_user())
        if gates:
            self.request.session[services.GATES_KEY] = gates
        return response


# --- password ------------------------------------------------------------------------------------


@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    first_login = services.GATE_PASSWORD in request.session.get(services.GATES_KEY, [])
    form_class = SetPasswordForm if first_login else PasswordChangeForm
    form: Any = form_class(request.user, request.POST or None)  # type: ignore[type-var]
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # other sessions end, this one gets a new key
        services.session_remember(user=user, request=request)
        services.password_changed(user=user)
        services.gate_passed(request=request, gate=services.GATE_PASSWORD)
        messages.success(request, _("Your password was changed."))
        return _after_gate(request)
    return render(request, "accounts/password_change.html", {"form": form, "first_login": first_login})


# --- two-factor authentication -------------------------------------------------------------------


def _qr_svg(url: str) -> str:
    return mark_safe(segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=False))  # noqa: S308 - generated locally


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    context = {"has_two_factor": services.has_two_factor(request.user)}
    return render(request, "accounts/account.html", context)


@never_cache
@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    device = services.totp_device_pending(user=request.user)
    form = forms.OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_confirm(user=request.user, device=device, token=form.cleaned_data["token"])
        except ValidationError as error:
            _add_form_errors(form, error)
        else:
            django_otp.login(request, device)
            services.gate_passed(request=request, gate=services.GATE_ENROL)
            services.gate_passed(request=request, gate=services.GATE_VERIFY)
            messages.success(request, _("Two-factor authentication is on."))
            return render(request, "accounts/backup_codes.html", {"codes": codes})
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": b32encode(device.bin_key).decode(),
        "required": services.GATE_ENROL in request.session.get(services.GATES_KEY, []),
    }
    return render(request, "accounts/two_factor_enrol.html", context)


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    form = forms.OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.otp_verify(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            services.gate_passed(request=request, gate=services.GATE_VERIFY)
            return _after_gate(request)
        form.add_error("token", _("That code is not right, or it was used already. Wait for a new one."))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@never_cache
@login_required
@require_POST
def backup_codes_new(request: HttpRequest) -> HttpResponse:
    if not services.has_two_factor(request.user):
        return redirect("accounts:two_factor_enrol")
    codes = services.backup_codes_new(user=request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes})


# --- users admin ---------------------------------------------------------------------------------


def _next_or(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@never_cache
@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    users = selectors.user_list(user=request.user, query=query)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "addresses": selectors.locked_addresses(user=request.user),
        "create_form": forms.UserCreateForm(),
    }
    return render(request, "accounts/users.html", context)


@never_cache
@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    rules.require_permission(request.user, "user", rules.CREATE)
    form = forms.UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.user_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            _add_form_errors(form, error)
        else:
            # the one-time password is shown on this response only, never stored in clear or sent again
            return render(request, "accounts/user_created.html", {"new_user": user, "password": password})
    return render(request, "accounts/user_create.html", {"form": form})


_ACTIONS = {
    "disable": (
        services.account_disable,
        gettext_lazy("The account %(user)s is disabled; its sessions and tokens ended."),
    ),
    "enable": (services.account_enable, gettext_lazy("The account %(user)s is enabled.")),
    "unlock": (services.account_unlock, gettext_lazy("The account %(user)s is unlocked.")),
    "reset-2fa": (
        services.two_factor_reset,
        gettext_lazy(
            "Two-factor authentication of %(user)s was reset; they set it up again at their next sign-in."
        ),
    ),
}


@login_required
@require_POST
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    rules.require_permission(request.user, "user", rules.ADMINISTER)
    target = get_object_or_404(User, pk=pk)
    if action not in _ACTIONS:
        return HttpResponse(status=404)
    service, message = _ACTIONS[action]
    try:
        service(actor=request.user, user=target)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, str(message) % {"user": target.get_username()})
    return _next_or(request, "accounts:users")


@login_required
@require_POST
def address_unlock(request: HttpRequest) -> HttpResponse:
    address = request.POST.get("address", "")
    services.address_unlock(actor=request.user, address=address)
    messages.success(request, _("The address %(address)s is unlocked.") % {"address": address})
    return redirect("accounts:users")


@never_cache
@login_required
def stale_users(request: HttpRequest) -> HttpResponse:
    form = forms.StaleForm(request.GET or None)
    days = form.cleaned_data["days"] if form.is_valid() else 90
    users = selectors.stale_users(user=request.user, days=days)
    page = Paginator(users, 100).get_page(request.GET.get("page"))
    return render(request, "accounts/stale.html", {"form": form, "days": days, "page": page})


# --- API tokens ----------------------------------------------------------------------------------------


@never_cache
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Your API tokens (administrators: everyone's), a form for a new one, and revoke buttons. The new
    key is shown on the answer to the form only."""
    administers = rules.has_permission(request.user, "security", rules.ADMINISTER)
    form = forms.ApiTokenForm(request.POST or None, administers=administers)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            token, key = tokens.create_token(actor=request.user, data=data, user=data.pop("user", None))
        except ValidationError as error:
            _add_form_errors(form, error)
        else:
            return render(request, "accounts/token_created.html", {"token": token, "key": key})
    context = {
        "form": form,
        "tokens": selectors.api_tokens(user=request.user, everyone=administers),
        "everyone": administers,
        "now": timezone.now(),
    }
    return render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    try:
        tokens.revoke_token(actor=request.user, token=token)
    except PermissionDenied:
        return HttpResponse(status=404)  # another user's token: as if it did not exist
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:api_tokens")
