"""Users created in Django's admin must choose their own password at the first sign-in."""

from __future__ import annotations

import pytest

from kith.accounts.models import AccountSecurity

pytestmark = pytest.mark.django_db


def test_a_user_created_in_the_django_admin_must_change_the_password(client, admin_user, django_user_model):
    client.force_login(admin_user)
    answer = client.post(
        "/django-admin/security/user/add/",
        {
            "username": "newbie",
            "password1": "Chosen-by-admin-2026",
            "password2": "Chosen-by-admin-2026",
            "usable_password": "true",
        },
    )
    assert answer.status_code == 302, answer.content[:500]
    newbie = django_user_model.objects.get(username="newbie")
    assert AccountSecurity.objects.get(user=newbie).must_change_password
    client.logout()
    client.post("/accounts/login/", {"username": "newbie", "password": "Chosen-by-admin-2026"})
    answer = client.get("/customers/")
    assert answer.status_code == 302 and "/accounts/password/" in answer["Location"]  # choose one first
