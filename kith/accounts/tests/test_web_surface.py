"""Web surface: security headers and CSP on pages and the API, no inline script or style in templates,
CSRF on forms, rate limits (429 with Retry-After), ``check --deploy`` clean under production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from kith.accounts import ratelimit
from kith.accounts.tests.helpers import login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def _assert_headers(response):  # type: ignore[no-untyped-def]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_headers_on_pages_and_api(client, user):
    _assert_headers(client.get("/accounts/login/"))
    _assert_headers(client.get("/api/v1/customers/"))  # a 401
    client.force_login(user)
    _assert_headers(client.get("/customers/"))
    _assert_headers(client.get("/api/v1/customers/"))


def test_api_docs_load_their_script_from_a_url(client, user):
    client.force_login(user)
    page = client.get("/api/docs/").content.decode()
    assert re.search(r"<script>\s*\S", page) is None
    assert client.get("/api/docs/?script=").status_code == 200


def test_templates_have_no_inline_script_style_or_handlers():
    offenders = []
    pattern = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"|hx-on", re.I)
    for path in (ROOT / "kith").rglob("templates/**/*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.fixture
def rate_window(monkeypatch):
    """Counters use fixed 60-second windows: a test whose requests straddled a window edge would see the
    count start again (CI once did). The clock stands 30 s into a window of its own for each test, so no
    edge falls inside it and no counter from another test (same user id, same cache) is counted."""
    window = uuid.uuid4().int % 10**9
    monkeypatch.setattr(ratelimit, "clock", lambda: window * 60.0 + 30.0)


def test_forms_need_the_csrf_token(user):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "manager", "password": "a-long-Passw0rd!"})
    assert response.status_code == 403
    strict.force_login(user)
    assert strict.post("/accounts/password/", {}).status_code == 403


def test_sign_in_is_rate_limited_per_address(client, user, settings, rate_window):
    settings.KITH_RATE_LIMITS = "login=3/60"
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    for _ in range(3):
        assert login(client, "nobody", "x", REMOTE_ADDR=address).status_code == 200
    response = login(client, "nobody", "x", REMOTE_ADDR=address)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    _assert_headers(response)
    # the API token endpoint counts in the same scope, and answers in JSON
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "manager", "password": "x"},
        content_type="application/json",
        REMOTE_ADDR=address,
    )
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    # another address signs in
    assert login(client, "manager", REMOTE_ADDR=f"203.0.113.{uuid.uuid4().int % 250 + 1}").status_code == 302


def test_search_is_rate_limited_per_user(client, user, admin_user, settings, rate_window):
    settings.KITH_RATE_LIMITS = "search=2/60,api=100/60"
    client.force_login(user)
    assert client.get("/customers/?q=acme").status_code == 200
    assert client.get("/api/v1/customers/?q=acme").status_code == 200
    response = client.get("/api/v1/customers/?q=acme")
    assert response.status_code == 429 and "Retry-After" in response
    assert response.json()["code"] == "throttled"
    assert client.get("/customers/?q=acme").status_code == 429
    assert client.get("/customers/").status_code == 200  # browsing without a search is not counted
    other = Client()
    other.force_login(admin_user)
    assert other.get("/customers/?q=acme").status_code == 200


def test_api_is_rate_limited_per_token(user, admin_user, settings, rate_window):
    settings.KITH_RATE_LIMITS = "api=3/60"
    api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    for _ in range(3):
        assert api.get("/api/v1/anniversaries/upcoming/").status_code == 200
    response = api.get("/api/v1/anniversaries/upcoming/")
    assert response.status_code == 429 and response["Content-Type"].startswith("application/json")
    other = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    assert other.get("/api/v1/anniversaries/upcoming/").status_code == 200


def test_rate_limits_do_not_query_the_database(
    client, user, settings, rate_window, django_assert_max_num_queries
):
    settings.KITH_RATE_LIMITS = "api=1/60"
    api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    api.get("/api/v1/anniversaries/upcoming/")
    with django_assert_max_num_queries(0):
        assert api.get("/api/v1/anniversaries/upcoming/").status_code == 429


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KITH_", "DJANGO_")) and k != "SECRET_KEY"
    }
    env.update(
        {
            "KITH_HTTPS": "1",
            "KITH_INSTANCE_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ALLOWED_HOSTS": "crm.example.com",
            "DATABASE_URL": "sqlite://:memory:",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "kith", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    # the deployment checks (security.*) must all pass; other apps' warnings are theirs to fix
    assert "(security." not in output and "ERRORS:" not in output, output
    assert "System check identified" in output
