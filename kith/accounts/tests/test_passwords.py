"""Password policy: one-time passwords from administrators, change at first sign-in, own change."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from kith.accounts.models import AccountSecurity
from kith.accounts.tests.helpers import PASSWORD, login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-long-passw0rd"


def _create_user(client, admin_user, username="newbie"):  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    response = client.post(
        "/accounts/users/new/", {"username": username, "display_name": "New Bie", "email": "nb@example.com"}
    )
    assert response.status_code == 200
    found = re.search(r'one-time-password">([^<]+)<', response.content.decode())
    assert found is not None
    password = found.group(1)
    client.logout()
    return password


def test_admin_creates_user_with_one_time_password_that_must_be_changed(client, admin_user):
    password = _create_user(client, admin_user)
    user = get_user_model().objects.get(username="newbie")
    assert user.check_password(password)
    assert AccountSecurity.objects.get(user=user).must_change_password

    response = login(client, "newbie", password)
    assert response.status_code == 302
    # every page leads to the password form first; the API says why in JSON
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    response = client.get("/customers/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == "/accounts/password/"
    response = client.get("/api/v1/customers/")
    assert response.status_code == 403
    assert response.json()["code"] == "password_required"
    assert "change your password" in response.json()["detail"]

    # the first-login form asks only for the new password, and applies the validators per field
    response = client.post("/accounts/password/", {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "new_password2" in errors and any("too short" in e for e in errors["new_password2"])
    response = client.post(
        "/accounts/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    state = AccountSecurity.objects.get(user=user)
    assert not state.must_change_password and state.password_changed_at is not None


def test_duplicate_username_is_a_field_error(client, admin_user, user):
    client.force_login(admin_user)
    response = client.post("/accounts/users/new/", {"username": "MANAGER"})
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


def test_plain_user_cannot_create_users(client, user):
    client.force_login(user)
    assert client.post("/accounts/users/new/", {"username": "x"}).status_code == 403
    assert not get_user_model().objects.filter(username="x").exists()


def test_own_password_change_shows_validator_errors_per_field(signed_in, user):
    response = signed_in.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "old_password" in errors
    response = signed_in.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    errors = response.context["form"].errors
    messages = " ".join(errors["new_password2"])
    assert "too common" in messages and "too short" in messages
    assert 'class="field-error"' in response.content.decode()

    response = signed_in.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in.get("/customers/").status_code == 200  # this session goes on
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_first_start_admin_must_change_the_printed_password(db, capsys):
    call_command("firststart", customers=3, seed=1)
    admin = get_user_model().objects.get(username="admin")
    assert AccountSecurity.objects.get(user=admin).must_change_password
