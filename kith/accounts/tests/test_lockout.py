"""Lockout after repeated failed sign-ins, per account and per address; administrators unlock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kith.accounts.models import AccountSecurity, AddressLockout
from kith.accounts.tests.helpers import PASSWORD, login

pytestmark = pytest.mark.django_db


def _token(client, username, password=PASSWORD, address="127.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_account_locks_after_five_failures_and_says_so(client, user, settings):
    settings.KITH_LOCKOUT_ADDRESS_FAILURES = 100
    for i in range(5):
        response = login(client, "manager", "wrong", REMOTE_ADDR=f"10.0.0.{i + 1}")
        assert response.status_code == 200
    # the right password from yet another address: still refused, with a clear message
    response = login(client, "manager", PASSWORD, REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 200
    assert "locked" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    # the API token endpoint goes through the same lock
    assert _token(client, "manager", address="10.0.0.98").status_code == 400
    locked_until = AccountSecurity.objects.get(user=user).locked_until
    assert locked_until is not None and locked_until > timezone.now()


def test_lock_ends_after_the_lockout_time(client, user):
    AccountSecurity.objects.create(user=user, locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert login(client, "manager").status_code == 302


def test_failures_outside_the_window_do_not_add_up(client, user):
    for _ in range(4):
        login(client, "manager", "wrong")
    AccountSecurity.objects.filter(user=user).update(failed_since=timezone.now() - dt.timedelta(minutes=16))
    AddressLockout.objects.all().delete()
    login(client, "manager", "wrong")
    assert AccountSecurity.objects.get(user=user).failed_logins == 1
    assert login(client, "manager").status_code == 302


def test_success_resets_the_count(client, user):
    for _ in range(4):
        login(client, "manager", "wrong")
    assert login(client, "manager").status_code == 302
    assert AccountSecurity.objects.get(user=user).failed_logins == 0


def test_address_locks_whatever_account_it_tries(client, user, admin_user, settings):
    settings.KITH_LOCKOUT_ADDRESS_FAILURES = 3
    for name in ("nobody", "ghost", "phantom"):
        login(client, name, "wrong", REMOTE_ADDR="192.0.2.7")
    response = login(client, "manager", PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert "locked" in response.content.decode()
    assert _token(client, "manager", address="192.0.2.7").status_code == 400
    # another address is not affected
    assert login(client, "manager", PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 302
    client.logout()

    client.force_login(admin_user)
    page = client.get("/accounts/users/").content.decode()
    assert "192.0.2.7" in page
    client.post("/accounts/users/addresses/unlock/", {"address": "192.0.2.7"})
    client.logout()
    assert login(client, "manager", PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 302


def test_admin_unlocks_an_account(client, user, admin_user):
    AccountSecurity.objects.create(user=user, locked_until=timezone.now() + dt.timedelta(minutes=10))
    client.force_login(admin_user)
    page = client.get("/accounts/users/").content.decode()
    assert "locked" in page
    assert client.post(f"/accounts/users/{user.pk}/unlock/").status_code == 302
    client.logout()
    assert login(client, "manager").status_code == 302


def test_plain_user_cannot_unlock(client, user):
    AccountSecurity.objects.create(user=user, locked_until=timezone.now() + dt.timedelta(minutes=10))
    client.force_login(user)
    assert client.post(f"/accounts/users/{user.pk}/unlock/").status_code == 403
    assert AccountSecurity.objects.get(user=user).locked_until is not None
