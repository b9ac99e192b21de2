"""Request plumbing of account protection: security headers, rate limits, idle timeout and the steps a
signed-in account still owes (new password, second factor). None of it queries the database on the hot
path: the session (already loaded from the cache) and at most one cache increment per request."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from kith.accounts import policy, ratelimit, services

# --- security headers -----------------------------------------------------------------------------

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Swagger UI (the API docs page) sets inline styles from its scripts; nothing else needs them.
API_DOCS_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(),"
    " payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (Django's SecurityMiddleware sets
    Referrer-Policy, X-Content-Type-Options, HSTS; XFrameOptionsMiddleware X-Frame-Options)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/docs/")
            response["Content-Security-Policy"] = API_DOCS_POLICY if docs else CONTENT_SECURITY_POLICY
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # responses made before XFrameOptionsMiddleware runs (a 429) get it too
        response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


# --- rate limits ----------------------------------------------------------------------------------


@functools.cache
def _paths() -> tuple[frozenset[str], frozenset[str]]:
    login = frozenset({reverse("login"), reverse("parties-api:token")})
    search = frozenset({reverse("parties:customer_list"), reverse("parties-api:customer-list")})
    return login, search


class RateLimitMiddleware:
    """429 with Retry-After when a user (or, signed out, an address) goes over its rate for sign-in,
    search or the API. One scope per request, so one cache increment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _scope(self, request: HttpRequest) -> str | None:
        login, search = _paths()
        path = request.path
        if request.method == "POST" and path in login:
            return ratelimit.LOGIN
        if path in search and request.GET.get("q"):
            return ratelimit.SEARCH
        if path.startswith("/api/"):
            return ratelimit.API
        return None

    def _identity(self, request: HttpRequest, scope: str) -> str:
        if scope != ratelimit.LOGIN:
            authorization = request.META.get("HTTP_AUTHORIZATION")
            if authorization:  # the credential stands for the user; no query to learn who it is
                return "k" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
            user_id = request.session.get(SESSION_KEY)
            if user_id:
                return f"u{user_id}"
        return f"a{policy.client_address(request)}"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = self._scope(request)
        if scope is not None:
            retry_after = ratelimit.hit(scope, self._identity(request, scope))
            if retry_after:
                return self._refuse(request, retry_after)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, retry_after: int) -> HttpResponse:
        message = _("Too many requests. Try again in %(seconds)s seconds.") % {"seconds": retry_after}
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"code": "throttled", "detail": message, "errors": {}}, status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(retry_after)
        return response


# --- idle timeout and owed steps ------------------------------------------------------------------

_GATE_URLS = {
    services.GATE_PASSWORD: "accounts:password_change",
    services.GATE_VERIFY: "accounts:two_factor_verify",
    services.GATE_ENROL: "accounts:two_factor_enrol",
}
SEEN_RESOLUTION = 60  # seconds: the last-seen stamp (a session write) is refreshed at most once a minute


class AccountGateMiddleware:
    """Signs out sessions idle for longer than ``KITH_IDLE_TIMEOUT_MINUTES``; sends an account that owes
    a new password or a second factor to that step before anything else (the API answers 403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.get(SESSION_KEY) is not None:
            now = int(time.time())
            seen = session.get(services.SEEN_KEY)
            if seen is not None and now - seen > policy.idle_timeout_seconds():
                request.user = get_user(request)  # the concrete user, for the user_logged_out receivers
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
                return self.get_response(request)  # now anonymous: the view sends it to the login page
            if seen is None or now - seen >= SEEN_RESOLUTION:
                session[services.SEEN_KEY] = now
            gates = session.get(services.GATES_KEY)
            if gates:
                refusal = self._gate(request, gates[0])
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    def _gate(self, request: HttpRequest, gate: str) -> HttpResponse | None:
        target = reverse(_GATE_URLS[gate])
        path = request.path
        if path == target or path == reverse("logout") or path.startswith(settings.STATIC_URL):
            return None
        if path.startswith("/api/"):
            detail = {
                services.GATE_PASSWORD: _("You must change your password before using Kith."),
                services.GATE_VERIFY: _("Enter your two-factor authentication code before using Kith."),
                services.GATE_ENROL: _("Set up two-factor authentication before using Kith."),
            }[gate]
            return JsonResponse({"code": f"{gate}_required", "detail": detail, "errors": {}}, status=403)
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
