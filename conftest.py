"""Shared pytest fixtures: users, signed-in clients, a few customers."""

from __future__ import annotations

import os

import pytest


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"kith: database={engine} cache={cache} CI={os.environ.get('CI', '')}"


@pytest.fixture
def user(db, django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="manager",
        password="a-long-Passw0rd!",
        email="manager@example.com",
        display_name="Mia Manager",
    )


@pytest.fixture
def admin_user(db, django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_superuser(
        username="root", password="a-long-Passw0rd!", email="root@example.com"
    )


@pytest.fixture
def signed_in(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client
