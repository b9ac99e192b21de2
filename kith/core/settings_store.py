"""Admin-editable settings kept in the database, with the environment's value as the default."""

from __future__ import annotations

from typing import Any

from kith.core.models import SiteSetting


def get_setting(key: str, default: Any = None) -> Any:
    row = SiteSetting.objects.filter(key=key).values_list("value", flat=True).first()
    return default if row is None else row


def set_setting(key: str, value: Any) -> None:
    SiteSetting.objects.update_or_create(key=key, defaults={"value": value})
