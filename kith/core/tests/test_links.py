"""Absolute links for emails: KITH_BASE_URL joined to a path, whatever slashes either has."""

from __future__ import annotations

from kith.core.links import absolute


def test_a_path_is_put_on_the_base_url(settings):
    settings.KITH_BASE_URL = "https://crm.example.com"
    assert absolute("/webhooks/3/") == "https://crm.example.com/webhooks/3/"
    settings.KITH_BASE_URL = "https://crm.example.com/kith/"
    assert absolute("/webhooks/3/") == "https://crm.example.com/kith/webhooks/3/"
    assert absolute("webhooks/") == "https://crm.example.com/kith/webhooks/"


def test_the_default_is_the_local_server():
    from django.conf import settings as configured

    assert configured.KITH_BASE_URL.startswith(("http://", "https://"))
    assert not configured.KITH_BASE_URL.endswith("/")
