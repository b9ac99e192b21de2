"""Changes to the organisation and to who may do what. Each one moves the security generation on, so every
process sees it at the next request (``selectors``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kith.core.errors import DeleteRefused
from kith.security.builtin import BUILTIN
from kith.security.models import (
    Access,
    Generation,
    Reach,
    Role,
    Share,
    ShareAccess,
    Team,
    User,
    VisibilityDefault,
)
from kith.security.rules import object_type, object_types


class _Unset:
    """Marks an argument left out (``None`` means "none": no manager, no team)."""


UNSET = _Unset()
MAX_DEPTH = 64  # a manager chain deeper than this is refused (the issue asks for at least 9)


def changed() -> None:
    """Move the security generation on (in the caller's transaction: a rollback takes it back, and the
    value is random so a rolled-back value is never met again)."""
    from kith.security.selectors import note_local_change

    note_local_change()
    transaction.on_commit(note_local_change)  # and again once it is visible to everyone
    value = secrets.randbits(62)
    updated = Generation.objects.filter(pk=1).update(value=value)
    if not updated:
        Generation.objects.update_or_create(pk=1, defaults={"value": value})


def _forget(*users: Any) -> None:
    for user in users:
        for attr in ("_kith_holding", "_kith_generation", "_kith_changes", "_kith_reach_sizes"):
            if hasattr(user, attr):
                delattr(user, attr)


# --- the manager chain -------------------------------------------------------------------------------
def rebuild_reach() -> int:
    """Write the manager chain's closure again from ``User.manager``; return the number of rows."""
    parents = dict(User.objects.values_list("id", "manager_id"))
    rows: list[tuple[int, int, int]] = []
    for member in parents:
        manager: int | None = member
        depth = 0
        seen: set[int] = set()
        while manager is not None and manager not in seen and depth <= MAX_DEPTH:
            seen.add(manager)
            rows.append((manager, member, depth))
            manager = parents.get(manager)
            depth += 1
    table = connection.ops.quote_name(Reach._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 -- model table name
        cursor.executemany(
            f"INSERT INTO {table} (manager_id, member_id, depth) VALUES (%s, %s, %s)",  # noqa: S608
            rows,
        )
    return len(rows)


def _chain_above(user_id: int) -> list[int]:
    parents = dict(User.objects.values_list("id", "manager_id"))
    chain, current = [], parents.get(user_id)
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


@transaction.atomic
def set_manager(user: User, manager: User | None, *, actor: Any = None) -> User:
    """Put ``user`` under ``manager`` (or at the top). Refuses cycles and chains deeper than MAX_DEPTH."""
    if manager is not None:
        if manager.pk == user.pk:
            raise ValidationError({"manager": _("A user cannot be their own manager.")})
        above = _chain_above(manager.pk)
        if user.pk in above:
            raise ValidationError(
                {
                    "manager": _("%(manager)s reports to %(user)s already: that would make a circle.")
                    % {"manager": manager, "user": user}
                }
            )
        if len(above) + 1 >= MAX_DEPTH:
            raise ValidationError(
                {"manager": _("The manager chain would be deeper than %(n)d levels.") % {"n": MAX_DEPTH}}
            )
    user.manager = manager
    user.save(update_fields=["manager"])
    rebuild_reach()
    changed()
    _forget(user)
    return user


@transaction.atomic
def set_team(user: User, team: Team | None) -> User:
    user.team = team
    user.save(update_fields=["team"])
    changed()
    _forget(user)
    return user


@transaction.atomic
def save_team(
    *, name: str, parent: Team | None = None, description: str = "", team: Team | None = None
) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A team needs a name.")})
    clash = Team.objects.filter(name__iexact=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError({"name": _("There is a team with this name already.")})
    if team is not None and parent is not None:
        # one move at a time, and the chain read after the lock (the rows read before may be stale)
        list(
            Team.objects.select_for_update().filter(pk__in=[team.pk, parent.pk]).values_list("pk", flat=True)
        )
        current: Team | None = Team.objects.get(pk=parent.pk)
        seen: set[int] = set()
        while current is not None:
            if current.pk == team.pk or current.pk in seen:  # (a circle made by an older race ends too)
                raise ValidationError(
                    {"parent": _("A team cannot be part of itself or of its own sub-team.")}
                )
            seen.add(current.pk)
            current = current.parent
    team = team or Team()
    team.name, team.parent, team.description = name, parent, (description or "").strip()
    team.save()
    changed()
    return team


@transaction.atomic
def delete_team(team: Team) -> None:
    """Delete a team that has neither members nor sub-teams (its shares go with it)."""
    members = team.members.count()
    children = team.children.count()
    if members or children:
        raise DeleteRefused(
            _("%(team)s still has members or sub-teams (%(members)d, %(children)d): move them first.")
            % {"team": team, "members": members, "children": children}
        )
    team.delete()
    changed()


# --- roles ------------------------------------------------------------------------------------------
def normalise_permissions(items: Iterable[str]) -> list[str]:
    """``["customer.view", ...]`` checked against the registered object types and their actions."""
    known = {(t.key, a) for t in object_types() for a in t.actions}
    out: set[str] = set()
    for item in items:
        key, _sep, action = str(item).partition(".")
        if (key, action) not in known:
            raise ValidationError({"permissions": _("Unknown permission: %(p)s") % {"p": item}})
        out.add(f"{key}.{action}")
    return sorted(out)


@transaction.atomic
def save_role(
    *,
    code: str,
    name: str,
    permissions: Iterable[str],
    description: str = "",
    require_two_factor: bool = False,
    sensitive_clearance: bool = False,
    is_default: bool = False,
    sees_all: bool = False,
    role: Role | None = None,
    version: int | None = None,
) -> Role:
    if role is not None and version is not None and role.version != version:
        raise ValidationError(
            {"__all__": _("Someone else changed this role while you edited it. Reload to see their change.")}
        )
    role = role or Role()
    role.code, role.name, role.description = (
        (code or "").strip(),
        (name or "").strip(),
        (description or "").strip(),
    )
    role.permissions = normalise_permissions(permissions)
    role.require_two_factor, role.sensitive_clearance, role.is_default, role.sees_all = (
        require_two_factor,
        sensitive_clearance,
        is_default,
        sees_all,
    )
    if role.pk:
        role.version += 1
    role.full_clean()
    role.save()
    changed()
    return role


@transaction.atomic
def delete_role(role: Role) -> None:
    """Delete a role nobody holds. Built-in roles stay: every ``migrate`` would create them again."""
    if role.code in BUILTIN:
        raise DeleteRefused(_("%(role)s is a built-in role and cannot be deleted.") % {"role": role})
    holders = role.users.count()
    if holders:
        raise DeleteRefused(
            ngettext(
                "%(n)d person holds %(role)s: take it away first.",
                "%(n)d people hold %(role)s: take it away from them first.",
                holders,
            )
            % {"n": holders, "role": role}
        )
    role.delete()
    changed()


@transaction.atomic
def set_roles(user: User, roles: Iterable[Role]) -> User:
    user.roles.set(list(roles))
    changed()
    _forget(user)
    return user


@transaction.atomic
def set_access(
    user: User,
    *,
    manager: User | _Unset | None = UNSET,
    team: Team | _Unset | None = UNSET,
    roles: Iterable[Role] | _Unset = UNSET,
    actor: Any = None,
) -> User:
    """Change one person's manager, team and roles together (what is left out or unchanged stays): all
    or nothing. An unchanged manager does not rebuild the chain's closure."""
    if not isinstance(manager, _Unset) and getattr(manager, "pk", None) != user.manager_id:
        set_manager(user, manager, actor=actor)
    if not isinstance(team, _Unset) and getattr(team, "pk", None) != user.team_id:
        set_team(user, team)
    if not isinstance(roles, _Unset):
        set_roles(user, roles)
    return user


@transaction.atomic
def grant_role(user: User, code: str) -> User:
    user.roles.add(Role.objects.get(code=code))
    changed()
    _forget(user)
    return user


def give_default_roles(user: User) -> None:
    """New users get the default roles; a new superuser the administrator role (what it holds anyway)."""
    if user.is_superuser:
        defaults = list(Role.objects.filter(code="administrator"))
    else:
        defaults = list(Role.objects.filter(is_default=True))
    if defaults:
        user.roles.add(*defaults)


# --- visibility ---------------------------------------------------------------------------------------
@transaction.atomic
def set_visibility_default(object_type_key: str, access: str) -> VisibilityDefault:
    try:
        registered = object_type(object_type_key)
    except LookupError:
        raise ValidationError({"object_type": _("There is no such object type.")}) from None
    if not registered.model:
        raise ValidationError({"object_type": _("This object type has no owners to share.")})
    if access not in Access.values:
        raise ValidationError({"access": _("Choose private, everyone reads, or everyone reads and writes.")})
    row, _created = VisibilityDefault.objects.update_or_create(
        object_type=object_type_key, defaults={"access": access}
    )
    changed()
    return row


@transaction.atomic
def share(
    obj: Any,
    *,
    user: User | None = None,
    team: Team | None = None,
    access: str = ShareAccess.READ,
    actor: Any = None,
) -> Share:
    if (user is None) == (team is None):
        raise ValidationError({"grantee": _("Share with one user or one team.")})
    if access not in ShareAccess.values:
        raise ValidationError({"access": _("Choose read, or read and write.")})
    if user is not None and not user.is_active:
        raise ValidationError({"grantee": _("This user is disabled.")})
    ct = ContentType.objects.get_for_model(type(obj))
    row, _created = Share.objects.update_or_create(
        content_type=ct,
        object_id=obj.pk,
        user=user,
        team=team,
        defaults={"access": access, "created_by": actor if getattr(actor, "pk", None) else None},
    )
    changed()
    return row


@transaction.atomic
def unshare(share_row: Share) -> None:
    share_row.delete()
    changed()
