from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from kith.security.models import User


class KithUserAdmin(UserAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # a password an administrator chose: the new user replaces it at the first sign-in
            from kith.accounts.services import password_change_require

            password_change_require(user=obj)


admin.site.register(User, KithUserAdmin)
