"""New users get the default roles and a place in the manager chain's closure."""

from __future__ import annotations

from typing import Any


def user_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not created:
        return
    from kith.security import services

    services.give_default_roles(instance)
    services.rebuild_reach()
    services.changed()
