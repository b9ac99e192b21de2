"""The public web-to-lead form (``/f/<key>/``, no sign-in), embeddable in a frame on the form's allowed
sites."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kith.accounts.middleware import CONTENT_SECURITY_POLICY
from kith.accounts.policy import client_address
from kith.core.forms import apply_service_errors
from kith.sales.lead_forms import START_NAME, PublicLeadForm
from kith.sales.models import WebForm
from kith.sales.selectors.leads import public_web_form
from kith.sales.services import web_forms


def _policy(web_form: WebForm) -> str:
    """The site's CSP, except: framed by the allowed sites (any site when none is listed), and the form
    may lead to the form's redirect page."""
    origins = web_forms.origins_of(web_form.allowed_origins)
    ancestors = " ".join(origins) if origins else "*"
    policy = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    if web_form.redirect_url:
        origin = web_forms.origins_of(web_form.redirect_url)
        if origin:  # Chrome applies form-action to the redirect that follows the post
            policy = policy.replace("form-action 'self'", f"form-action 'self' {origin[0]}")
    return policy


def _page(
    request: HttpRequest, web_form: WebForm, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(
        request, "sales/leads/public_form.html", {"web_form": web_form, **context}, status=status
    )
    response["Content-Security-Policy"] = _policy(web_form)
    response["Cache-Control"] = "no-store"  # the start token is fresh on every showing
    return response


def _thanks(request: HttpRequest, web_form: WebForm) -> HttpResponse:
    if web_form.redirect_url:
        response: HttpResponse = HttpResponseRedirect(web_form.redirect_url)
        response["Content-Security-Policy"] = _policy(web_form)
        return response
    return _page(request, web_form, {"thanks": True})


# csrf_exempt: the page is shown in a frame on another site, where the session CSRF cookie is a
# third-party cookie that browsers withhold, so Django's check would refuse every real visitor. The
# signed start token takes its place: it is issued with the page, bound to this form, valid from a few
# seconds to a day, and cannot be forged without SECRET_KEY. A cross-site forgery gains nothing anyway:
# the view needs no session, acts as nobody and only creates a lead, as any visitor may.
@csrf_exempt
@xframe_options_exempt  # framing is governed by the frame-ancestors of the form's own policy
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, key: str) -> HttpResponse:
    web_form = public_web_form(key)
    if request.method == "GET":
        return _page(request, web_form, {"form": PublicLeadForm(), "token": web_forms.start_token(web_form)})
    form = PublicLeadForm(request.POST)
    data = {**request.POST.dict(), **(form.cleaned_data if form.is_valid() else {})}
    own_origin = f"{request.scheme}://{request.get_host()}"
    try:
        web_forms.web_form_submit(
            web_form=web_form,
            data=data,
            client=client_address(request) or "",
            origin=request.headers.get("Origin", ""),
            referer=request.headers.get("Referer", ""),
            own_origin=own_origin,
        )
    except ValidationError as error:
        apply_service_errors(error, form)
        # a fresh token: the visitor corrects the form and sends it again
        return _page(
            request,
            web_form,
            {"form": form, "token": request.POST.get(START_NAME, "") or web_forms.start_token(web_form)},
            status=400,
        )
    # refused or accepted: the same answer (a robot learns nothing)
    return _thanks(request, web_form)
