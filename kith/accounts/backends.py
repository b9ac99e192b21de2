"""Password sign-in that refuses locked accounts and addresses and counts failures.

Every password check goes through ``django.contrib.auth.authenticate`` and so through this backend: the
sign-in page, the API token endpoint and any Basic authentication alike.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from kith.accounts import policy, services


class LockoutBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = policy.client_address(request)
        refusal = services.login_refusal(username=username, address=address)
        if refusal:
            raise PermissionDenied(refusal)  # stops authenticate(); no password is checked
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failed(username=username, address=address)
            return None
        services.login_succeeded(user=user)
        if request is not None and request.path.startswith("/api/") and services.login_gates(user=user):
            # a password alone (API token endpoint, Basic) cannot give a second factor or a new password:
            # such accounts sign in on the web, where those steps are asked
            raise PermissionDenied(services.API_LOGIN_REFUSED)
        return user
