"""TOTP two-factor authentication: enrolment with a QR code, the second step at sign-in, backup codes,
enrolment required by role, reset by an administrator."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kith.accounts import services
from kith.accounts.tests.helpers import login, totp_code

pytestmark = pytest.mark.django_db


def _enrolled(user):  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    codes = services.backup_codes_new(user=user)
    return device, codes


def test_enrolment_shows_a_qr_code_and_the_secret_and_confirms_with_a_code(signed_in, user):
    response = signed_in.get("/accounts/two-factor/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "<path" in page  # the QR code, drawn here
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = response.context["secret"]
    assert secret in page and "otpauth://" not in page
    assert "secret=" + secret in device.config_url

    response = signed_in.post(
        "/accounts/two-factor/", {"token": "000000" if totp_code(device) != "000000" else "111111"}
    )
    assert response.status_code == 200 and "token" in response.context["form"].errors
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()

    response = signed_in.post("/accounts/two-factor/", {"token": totp_code(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == services.BACKUP_CODE_COUNT
    device.refresh_from_db()
    assert device.confirmed
    assert StaticDevice.objects.get(user=user).token_set.count() == services.BACKUP_CODE_COUNT


def test_sign_in_asks_for_the_code_before_anything_else(client, user):
    device, _codes = _enrolled(user)
    assert login(client, "manager").status_code == 302
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/verify/"
    assert client.get("/api/v1/customers/").json()["code"] == "verify_required"
    # the password form is behind the second factor too
    assert client.get("/accounts/password/")["Location"] == "/accounts/two-factor/verify/"

    response = client.post("/accounts/two-factor/verify/", {"token": "12345"})
    assert response.status_code == 200 and "token" in response.context["form"].errors
    assert client.get("/customers/").status_code == 302

    response = client.post("/accounts/two-factor/verify/", {"token": totp_code(device)})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200


def test_a_backup_code_signs_in_once(client, user):
    _device, codes = _enrolled(user)
    login(client, "manager")
    response = client.post("/accounts/two-factor/verify/", {"token": codes[0]})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200
    client.logout()
    login(client, "manager")
    response = client.post("/accounts/two-factor/verify/", {"token": codes[0]})
    assert response.status_code == 200 and "token" in response.context["form"].errors


def test_a_role_that_requires_two_factor_sends_the_user_to_enrolment(client, user, monkeypatch):
    from kith.security import rules

    monkeypatch.setattr(rules, "two_factor_required", lambda u: u.pk == user.pk)
    login(client, "manager")
    response = client.get("/customers/")
    assert response["Location"] == "/accounts/two-factor/"
    page = client.get("/accounts/two-factor/")
    assert "requires two-factor authentication" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/two-factor/", {"token": totp_code(device)})
    assert response.status_code == 200
    assert client.get("/customers/").status_code == 200


def test_without_the_requirement_no_enrolment_is_forced(client, user, monkeypatch):
    from kith.security import rules

    monkeypatch.setattr(rules, "two_factor_required", lambda u: False)
    login(client, "manager")
    assert client.get("/customers/").status_code == 200


def test_admin_resets_two_factor(client, admin_user, user):
    _enrolled(user)
    client.force_login(admin_user)
    page = client.get("/accounts/users/").content.decode()
    assert re.search(r"manager.*?badge-accent", page, re.S)
    response = client.post(f"/accounts/users/{user.pk}/reset-2fa/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()


def test_password_alone_gets_no_api_token_for_an_account_with_two_factor(client, user):
    _enrolled(user)
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "manager", "password": "a-long-Passw0rd!"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_account_without_owed_steps_gets_its_api_token(client, user):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "manager", "password": "a-long-Passw0rd!"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["token"]
