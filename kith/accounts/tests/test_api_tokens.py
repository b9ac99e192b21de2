"""Personal and service API tokens: shown once, stored as a hash, narrowed to scopes, expiring, revocable
at once, audited; roles and visibility still apply to what a token's account may do."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kith.audit.models import AuditEntry
from kith.parties.tests.factories import person
from kith.security import tokens
from kith.security.models import ApiToken, Role
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

NEW_PERSON = {"kind": "person", "family_name": "Token", "given_name": "Made"}


def _bearer(key: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def _new(user: Any, *scopes: str, days: int = 30) -> str:
    _token, key = tokens.create_token(
        actor=user, data={"name": "nightly-sync", "scopes": list(scopes), "days": days}
    )
    return key


def test_a_token_is_made_on_the_web_shown_once_and_stored_as_a_hash(client: Client, user: Any) -> None:
    client.force_login(user)
    page = client.get("/accounts/tokens/")
    assert page.status_code == 200 and "customers:read" in page.content.decode()
    response = client.post(
        "/accounts/tokens/",
        {"name": "ERP sync", "scopes": ["customers:read", "customers:write"], "days": "30"},
    )
    assert response.status_code == 200
    key = re.search(r"kith_[A-Za-z0-9_\-]+", response.content.decode())
    assert key is not None
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == tokens.digest(key.group(0)) and key.group(0) not in token.key_hash
    assert token.scopes == ["customers:read", "customers:write"]
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    # shown once: the list afterwards has the prefix only
    listing = client.get("/accounts/tokens/").content.decode()
    assert token.prefix in listing and key.group(0) not in listing
    created = AuditEntry.objects.get(object_type="security.apitoken", action="permission_change")
    assert token.key_hash not in json.dumps(created.changes) and "ERP sync" in json.dumps(created.changes)


def test_bad_input_gets_field_errors_and_no_token(client: Client, user: Any) -> None:
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "", "scopes": [], "days": "0"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"name", "scopes", "days"} <= set(errors)
    response = client.post("/accounts/tokens/", {"name": "x", "scopes": ["everything:write"], "days": "9"})
    assert response.status_code == 400 and "scopes" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_scopes_narrow_what_a_token_may_do(user: Any) -> None:
    reader = _bearer(_new(user, "customers:read"))
    assert reader.get("/api/v1/customers/").status_code == 200
    refused = reader.post("/api/v1/customers/", NEW_PERSON, format="json")
    assert refused.status_code == 403 and "customers:write" in json.dumps(refused.json())
    other_area = _bearer(_new(make_user("auditor1", "auditor"), "customers:read")).get("/api/v1/audit/")
    assert other_area.status_code == 403 and "audit:read" in json.dumps(other_area.json())
    assert (
        _bearer(_new(make_user("auditor2", "auditor"), "audit:read")).get("/api/v1/audit/").status_code == 200
    )
    writer = _bearer(_new(user, "customers:read", "customers:write"), scheme="Token")  # either scheme
    assert writer.post("/api/v1/customers/", NEW_PERSON, format="json").status_code == 201


def test_the_accounts_role_and_visibility_still_apply(user: Any) -> None:
    viewer = make_user("viewer1", "viewer")
    key = _new(viewer, "customers:read", "customers:write")
    assert _bearer(key).post("/api/v1/customers/", NEW_PERSON, format="json").status_code == 403
    peer = make_user("peer", "sales_rep")
    theirs = person(peer, family_name="Hidden")
    rep = make_user("rep", "sales_rep")
    answer = _bearer(_new(rep, "customers:read")).get(f"/api/v1/customers/{theirs.customer_number}/")
    assert answer.status_code == 404


def test_expired_revoked_and_disabled_tokens_stop_at_once(client: Client, user: Any, admin_user: Any) -> None:
    key = _new(user, "customers:read")
    api = _bearer(key)
    assert api.get("/api/v1/customers/").status_code == 200  # now cached
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is not None
    assert not AuditEntry.objects.filter(object_type="security.apitoken", action="update").exists()
    client.force_login(user)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/customers/").status_code == 401
    # an expired one
    expiring = _new(user, "customers:read")
    ApiToken.objects.filter(key_hash=tokens.digest(expiring)).update(expires_at=timezone.now())
    assert _bearer(expiring).get("/api/v1/customers/").status_code == 401
    # a disabled account's tokens end with it
    other = make_user("other", "sales_rep")
    theirs = _bearer(_new(other, "customers:read"))
    assert theirs.get("/api/v1/customers/").status_code == 200
    other.is_active = False
    other.save()
    assert theirs.get("/api/v1/customers/").status_code == 401
    assert _bearer("kith_not-a-real-key").get("/api/v1/customers/").status_code == 401


def test_only_the_owner_or_an_administrator_revokes(client: Client, user: Any, admin_user: Any) -> None:
    _new(user, "customers:read")
    token = ApiToken.objects.get(user=user)
    stranger = make_user("stranger", "sales_rep")
    client.force_login(stranger)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert "nightly-sync" not in client.get("/accounts/tokens/").content.decode()  # nor in their list
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(admin_user)
    assert "nightly-sync" in client.get("/accounts/tokens/").content.decode()  # admins see everyone's
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_administrators_make_service_tokens_for_integration_accounts(client: Client, admin_user: Any) -> None:
    integration = make_user("erp", "sales_manager")
    client.force_login(admin_user)
    response = client.post(
        "/accounts/tokens/",
        {"name": "ERP", "scopes": ["customers:read"], "days": "365", "user": str(integration.pk)},
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=integration)
    assert token.kind == "service" and token.created_by == admin_user
    # others cannot: the form has no account field, and the service refuses
    rep = make_user("rep2", "sales_rep")
    with pytest.raises(PermissionDenied):
        tokens.create_token(actor=rep, data={"name": "x", "scopes": ["customers:read"]}, user=integration)


def test_two_factor_accounts_use_tokens_made_after_signing_in(client: Client) -> None:
    guarded = Role.objects.create(code="guarded", name="Guarded", require_two_factor=True)
    worker = make_user("guarded1", "sales_rep")
    worker.roles.add(guarded)
    password_api = client.post(
        "/api/v1/auth/token/",
        {"username": "guarded1", "password": "a-long-Passw0rd!"},
        content_type="application/json",
    )
    assert password_api.status_code in (400, 403)  # a password alone cannot pass a second factor
    key = _new(worker, "customers:read")  # made on the web, after signing in with both factors
    assert _bearer(key).get("/api/v1/customers/").status_code == 200
