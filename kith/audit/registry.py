"""Which models the audit trail records, and which it leaves out on purpose (with the reason).

Every installed model must be one or the other: ``kith.audit.tests.test_coverage`` fails for a model that
is neither, so a new module decides when it adds a model. An app registers its models in its
``AppConfig.ready``::

    from kith.audit import registry
    registry.audit_app("sales")                                   # every model of the app, now and later
    registry.audit_model("sales.Order", root="customer_id")       # entries also listed on the customer
    registry.exempt("sales.OrderTotalCache", "derived from orders, which are audited")

``root`` names the attribute holding the owning customer's id, so the customer's History tab finds the
entries of its contact points, records and relationships with one indexed lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

# Bookkeeping columns that change on every save and say nothing an auditor needs.
ALWAYS_EXCLUDED = frozenset({"updated_at", "version"})


@dataclass(frozen=True)
class AuditOptions:
    exclude: frozenset[str] = frozenset()
    sensitive: frozenset[str] = frozenset()
    # attribute with the owning customer's id ("pk" for the customer itself)
    root: str | None = None
    # changes to this model are permission changes (roles, grants, shares ...)
    permission: bool = False

    def is_sensitive(self, name: str) -> bool:
        return name in self.sensitive or is_secret_name(name)


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered == "password" or "secret" in lowered or "token" in lowered or lowered.endswith("_key_hash")


_models: dict[str, AuditOptions] = {}
_apps: dict[str, AuditOptions] = {}
_exempt: dict[str, str] = {}
_exempt_apps: dict[str, str] = {}
_cache: dict[type, AuditOptions | None] = {}
# called after every registration (the capture connects its per-model delete receivers)
listeners: list[Callable[[], None]] = []


def _changed() -> None:
    _cache.clear()
    if apps.models_ready:
        for listener in listeners:
            listener()


def _label(model: type[models.Model] | str) -> str:
    if isinstance(model, str):
        app_label, _dot, name = model.partition(".")
        return f"{app_label}.{name.lower()}"
    return model._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]


def audit_model(
    model: type[models.Model] | str,
    *,
    exclude: tuple[str, ...] = (),
    sensitive: tuple[str, ...] = (),
    root: str | None = None,
    permission: bool = False,
) -> None:
    """Record every create, update and delete of ``model`` field by field."""
    _models[_label(model)] = AuditOptions(
        exclude=frozenset(exclude) | ALWAYS_EXCLUDED,
        sensitive=frozenset(sensitive),
        root=root,
        permission=permission,
    )
    _changed()


def audit_app(app_label: str, *, permission: bool = False, sensitive: tuple[str, ...] = ()) -> None:
    """Record every model of ``app_label``, including models the app adds later."""
    _apps[app_label] = AuditOptions(
        exclude=ALWAYS_EXCLUDED, sensitive=frozenset(sensitive), permission=permission
    )
    _changed()


def exempt(model: type[models.Model] | str, reason: str) -> None:
    """Leave ``model`` out of the audit trail. The reason is documented and shown by ``kith audit models``."""
    if not reason.strip():
        raise ValueError("an exemption needs a reason")
    _exempt[_label(model)] = reason
    _changed()


def exempt_app(app_label: str, reason: str) -> None:
    if not reason.strip():
        raise ValueError("an exemption needs a reason")
    _exempt_apps[app_label] = reason
    _changed()


def options_for(model: type[models.Model]) -> AuditOptions | None:
    """How ``model`` is audited, or None when it is not."""
    try:
        return _cache[model]
    except KeyError:
        pass
    meta = model._meta
    concrete = meta.concrete_model or model
    label = concrete._meta.label_lower
    found: AuditOptions | None
    if label in _models:
        found = _models[label]
    elif label in _exempt or meta.auto_created:
        found = None  # m2m through tables are recorded on the model that owns the field
    elif concrete._meta.app_label in _apps and concrete._meta.app_label not in _exempt_apps:
        found = _apps[concrete._meta.app_label]
    else:
        found = None
    _cache[model] = found
    return found


def exemption_for(model: type[models.Model]) -> str | None:
    label = (model._meta.concrete_model or model)._meta.label_lower
    return _exempt.get(label) or _exempt_apps.get(model._meta.app_label)


def exemptions() -> dict[str, str]:
    return {**{f"{app}.*": reason for app, reason in _exempt_apps.items()}, **_exempt}


def uncovered_models() -> list[str]:
    """Installed models that are neither audited nor exempt (the coverage test's answer)."""
    missing = []
    for model in apps.get_models():
        if model._meta.auto_created or model._meta.proxy:
            continue
        if options_for(model) is None and exemption_for(model) is None:
            missing.append(model._meta.label)
    return sorted(missing)


def audited_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if not m._meta.proxy and options_for(m) is not None]


def registrations_of(model: type[models.Model] | Any) -> str:
    """For messages: how a model is covered."""
    if options_for(model) is not None:
        return "audited"
    return f"exempt: {exemption_for(model)}" if exemption_for(model) else "not covered"
