"""Absolute links to Kith's pages, for what is read outside a request (emails): ``KITH_BASE_URL`` + path."""

from __future__ import annotations

from django.conf import settings


def absolute(path: str) -> str:
    """``path`` (what ``reverse`` gives) on the address people reach Kith at, e.g.
    ``absolute("/webhooks/3/")`` is ``https://crm.example.com/webhooks/3/``."""
    return f"{str(settings.KITH_BASE_URL).rstrip('/')}/{path.lstrip('/')}"
