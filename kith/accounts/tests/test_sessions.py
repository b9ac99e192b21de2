"""Idle timeout, disabling accounts (sessions and API tokens end at once), the stale-account report."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from kith.accounts import services
from kith.accounts.models import UserSession
from kith.accounts.tests.helpers import login

pytestmark = pytest.mark.django_db


def _age_session(client, seconds):  # type: ignore[no-untyped-def]
    session = client.session
    session[services.SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_idle_session_is_signed_out(client, user, settings):
    settings.KITH_IDLE_TIMEOUT_MINUTES = 30
    login(client, "manager")
    assert client.get("/customers/").status_code == 200
    _age_session(client, 29 * 60)
    assert client.get("/customers/").status_code == 200  # activity within the timeout keeps it
    _age_session(client, 31 * 60)
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/customers/").status_code == 302  # gone for good


def test_idle_htmx_request_gets_the_login_redirect(client, user):
    login(client, "manager")
    _age_session(client, 31 * 60)
    response = client.get("/customers/?q=acme", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_disabling_ends_sessions_and_tokens_at_once(client, user, admin_user):
    browser = Client()
    login(browser, "manager")
    assert browser.get("/customers/").status_code == 200
    session_key = browser.session.session_key
    assert UserSession.objects.filter(user=user, session_key=session_key).exists()

    token = Token.objects.create(user=user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/customers/").status_code == 200  # now cached for 30 s

    client.force_login(admin_user)
    response = client.post(f"/accounts/users/{user.pk}/disable/")
    assert response.status_code == 302

    assert api.get("/api/v1/customers/").status_code == 401
    assert not Token.objects.filter(user=user).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert cache.get(f"django.contrib.sessions.cached_db{session_key}") is None
    assert browser.get("/customers/").status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    # and it cannot sign in again until enabled
    assert login(Client(), "manager").status_code == 200
    client.post(f"/accounts/users/{user.pk}/enable/")
    assert login(Client(), "manager").status_code == 302


def test_admin_cannot_disable_themself(client, admin_user):
    client.force_login(admin_user)
    client.post(f"/accounts/users/{admin_user.pk}/disable/")
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_users_page_needs_the_permission(client, user, admin_user):
    client.force_login(user)
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/accounts/users/stale/").status_code == 403
    client.force_login(admin_user)
    page = client.get("/accounts/users/")
    assert page.status_code == 200 and "manager" in page.content.decode()


def test_stale_report_lists_accounts_without_recent_sign_in_and_disables_in_one_click(client, admin_user):
    users = get_user_model().objects
    old = timezone.now() - dt.timedelta(days=120)
    stale = users.create_user(username="stale", password="x-long-Passw0rd!", last_login=old)
    never = users.create_user(username="never", password="x-long-Passw0rd!")
    users.filter(pk=never.pk).update(date_joined=old)
    fresh = users.create_user(username="fresh", password="x-long-Passw0rd!", last_login=timezone.now())
    users.create_user(username="gone", password="x-long-Passw0rd!", last_login=old, is_active=False)

    client.force_login(admin_user)
    response = client.get("/accounts/users/stale/")
    names = {u.username for u in response.context["page"]}
    assert names == {"stale", "never"}
    response = client.get("/accounts/users/stale/?days=200")
    assert {u.username for u in response.context["page"]} == set()
    response = client.get("/accounts/users/stale/?days=abc")
    assert response.status_code == 200 and "days" in response.context["form"].errors

    response = client.post(f"/accounts/users/{stale.pk}/disable/", {"next": "/accounts/users/stale/"})
    assert response["Location"] == "/accounts/users/stale/"
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert not stale.is_active and fresh.is_active


def test_sign_out_ends_the_session_and_forgets_it(client, user):
    login(client, "manager")
    key = client.session.session_key
    assert UserSession.objects.filter(session_key=key).exists()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not UserSession.objects.filter(session_key=key).exists()
    assert client.get("/customers/").status_code == 302
