"""Who, from where and through which door: web, API (session and token), command line, logins."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kith.audit import context
from kith.audit.choices import Action, Source
from kith.audit.context import audit_context
from kith.parties.tests.factories import person

pytestmark = pytest.mark.django_db


def test_api_token_user_is_the_actor(admin_user, entries):
    customer = person(actor=admin_user)
    token = Token.objects.create(user=admin_user)
    api = APIClient(REMOTE_ADDR="10.1.2.3")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/v1/customers/{customer.customer_number}/"
    response = api.patch(url, {"version": customer.version, "notes": "via token"}, format="json")
    assert response.status_code == 200, response.content
    entry = entries(object_type="parties.customer", action=Action.UPDATE)[-1]
    assert entry.changes["notes"] == ["", "via token"]
    assert (entry.source, entry.actor_label, entry.actor_id) == (Source.API, "root", admin_user.pk)
    assert entry.remote_addr == "10.1.2.3"
    assert entry.request_id


def test_web_request_is_source_web(admin_user, entries):
    from kith.parties import services

    customer = person(actor=admin_user, notes="before")
    created = entries(object_type="parties.customer")[0]
    services.customer_update(
        actor=admin_user, customer=customer, expected_version=customer.version, data={"notes": "after"}
    )
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.force_login(admin_user)
    response = client.post(
        f"/customers/{customer.customer_number}/history/{created.seq}/restore/",
        {"version": customer.version, "field": "notes"},
    )
    assert response.status_code == 302
    entry = entries(action=Action.RESTORE)[-1]
    assert (entry.source, entry.actor_id, entry.remote_addr) == (Source.WEB, admin_user.pk, "192.0.2.7")


def test_context_manager_and_command_line_default(user, entries):
    with audit_context(source=Source.IMPORT, actor=user):
        person(actor=user, family_name="Imported")
    imported = entries(object_type="parties.customer")[-1]
    assert (imported.source, imported.actor_label) == (Source.IMPORT, "manager")
    context.set_default_source(Source.CLI)
    try:
        person(family_name="Scripted")
    finally:
        context.set_default_source(Source.SYSTEM)
    scripted = entries(object_type="parties.customer")[-1]
    assert scripted.source == Source.CLI
    assert scripted.actor_label.startswith("os:")


def test_kith_command_line_records_source_cli(entries, monkeypatch):
    from django.core import management

    from kith.cli import main

    # run the command in-process without run_from_argv closing the test's database connection
    monkeypatch.setattr(
        management, "execute_from_command_line", lambda argv: management.call_command(*argv[1:])
    )
    try:
        main(["shell", "-c", "from kith.core.settings_store import set_setting; set_setting('cli_probe', 1)"])
    finally:
        context.set_default_source(Source.SYSTEM)
    entry = entries(object_type="core.sitesetting")[-1]
    assert entry.source == Source.CLI


def test_login_logout_and_failed_login_are_recorded(user, entries):
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.post("/accounts/login/", {"username": "manager", "password": "wrong-password-1"})
    client.post("/accounts/login/", {"username": "manager", "password": "a-long-Passw0rd!"})
    client.post("/accounts/logout/")
    failed = entries(action=Action.LOGIN_FAILED)
    assert failed and failed[0].changes == {"username": "manager"}
    assert failed[0].remote_addr == "198.51.100.4"
    assert failed[0].actor_id is None
    login = entries(action=Action.LOGIN)
    assert login and login[0].actor_id == user.pk and login[0].remote_addr == "198.51.100.4"
    assert login[0].source == Source.WEB
    assert entries(action=Action.LOGOUT)
    assert "a-long-Passw0rd!" not in str([e.changes for e in entries()])
