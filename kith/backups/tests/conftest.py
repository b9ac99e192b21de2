"""Fixtures of the backup tests: a private backup, instance and media folder, the engine's tools, sample data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.db import connection

from kith.parties import services
from kith.parties.models import RelationshipType
from kith.parties.tests.factories import company, person


@pytest.fixture
def backup_folder(tmp_path: Path, settings, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    settings.INSTANCE_DIR = tmp_path
    settings.KITH_BACKUP_DIR = tmp_path / "backups"
    # backups take and restores replace the media folder: never the instance's real one
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.delenv("KITH_BACKUP_KEY", raising=False)
    return tmp_path / "backups"


@pytest.fixture
def engine_tools() -> None:
    """PostgreSQL backups need the client tools: skip with a message without them, except in CI (fail)."""
    if connection.vendor != "postgresql":
        return
    missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if not shutil.which(tool)]
    if missing:
        message = f"PostgreSQL client tools missing ({', '.join(missing)}): install postgresql-client"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def sample_data(admin_user):  # type: ignore[no-untyped-def]
    """Customers of both kinds with contact points, interactions and relationships (through the services)."""
    employs = RelationshipType.objects.create(
        code="employs", name="employs", inverse_name="works for", from_kind="company", to_kind="person"
    )
    people = [
        person(admin_user, given_name="Anna", family_name="Berg", phones=[{"number": "+49 30 1234567"}]),
        person(admin_user, given_name="三", family_name="张", emails=[{"address": "zhang@example.com"}]),
        person(admin_user, given_name="Ben", family_name="Okafor"),
    ]
    acme = company(admin_user, legal_name="Acme Trading Ltd")
    for someone in people[:2]:
        services.relationship_add(actor=admin_user, type=employs, from_customer=acme, to_customer=someone)
    for index, customer in enumerate([*people, acme]):
        services.interaction_create(
            actor=admin_user, customer=customer, data={"kind": "call", "subject": f"Call {index} — ✓ ünïcode"}
        )
    return {"people": people, "company": acme}
