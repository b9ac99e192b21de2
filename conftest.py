"""Shared pytest fixtures: users, signed-in clients, a few customers, a loopback SMTP inbox."""

from __future__ import annotations

import email
import os
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(
    os.environ.get("KITH_SHARED_DATA") or Path(__file__).resolve().parent.parent / "shared" / "data"
)


@pytest.fixture(scope="session")
def formats() -> Path:
    """The sample exports of other systems in ../shared/data/formats (``KITH_SHARED_DATA`` overrides the
    data folder): skipped with a message when the folder is missing, except in CI (a failure)."""
    folder = SHARED_DATA / "formats"
    if not folder.is_dir():
        message = f"the sample export files are not there ({folder}); they come with the shared data folder"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def online_retail() -> Path:
    """The UCI Online Retail invoice lines in ../shared/data/online_retail, read in place: skipped with a
    message when missing, except in CI (a failure)."""
    path = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
    if not path.is_file():
        message = f"the Online Retail file is not there ({path}); it comes with the shared data folder"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"kith: database={engine} cache={cache} CI={os.environ.get('CI', '')}"


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Tests marked ``engine("sqlite")`` exercise something only that engine has (a database file to
    edit, say): on the other engine they are deselected, not skipped, and the count is reported."""
    from django.conf import settings

    vendor = "sqlite" if "sqlite" in settings.DATABASES["default"]["ENGINE"] else "postgresql"
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("engine")
        (drop if marker and marker.args[0] != vendor else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    """An account manager: a sales manager (works with and exports the customers they or their reports own)."""
    from kith.security.testing import make_user

    return make_user("manager", "sales_manager", display_name="Mia Manager")


@pytest.fixture
def admin_user(db, django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_superuser(
        username="root", password="a-long-Passw0rd!", email="root@example.com"
    )


@pytest.fixture
def signed_in(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


class SmtpInbox:
    """What the loopback SMTP server received: (recipients, message) per mail."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) on loopback that Django's SMTP backend sends to, in English; the test
    reads ``smtp.messages``."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.LANGUAGE_CODE = "en"
    yield inbox
    controller.stop()


@pytest.fixture(autouse=True)
def _rate_limits_off(settings):  # type: ignore[no-untyped-def]
    """Rate-limit counters live in the cache and would add up across tests; kith.accounts' tests turn
    them on where they test them."""
    settings.KITH_RATE_LIMITS = "off"


@pytest.fixture(autouse=True)
def _default_language():  # type: ignore[no-untyped-def]
    """Each test starts in the default language: a request handled in Chinese by an earlier test on the
    same worker must not leave its language active for the next one."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
