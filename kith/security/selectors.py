"""Reads of the access-control data: a user's permissions, reach (themself and everyone below them in the
manager chain), teams, and the visibility condition every list, page, search and API applies.

What a user holds is cached per user and *security generation*: every change to roles, the manager chain,
teams, defaults or shares moves the generation on (``services.changed``), so the next request of every
process computes afresh. The generation is one row read per request (``current_generation``); the
permission and reach sets come from the cache (local memory, or Redis shared between servers).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.lookups import Exact, In

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

if TYPE_CHECKING:
    from kith.security.rules import ObjectType

CACHE_SECONDS = 3600

# Changes made in this process: a user object that cached its holding before a change recomputes it.
_local = {"changes": 0}


def note_local_change() -> None:
    _local["changes"] += 1


def current_generation() -> int:
    """The security generation (one indexed read; no row yet means 0)."""
    table = connection.ops.quote_name(Generation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE id = 1")  # noqa: S608 -- model table name
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _generation(user: Any) -> int:
    """Read once per request: kept on the user object, which lives as long as the request."""
    value = getattr(user, "_kith_generation", None)
    if value is None or getattr(user, "_kith_changes", None) != _local["changes"]:
        value = current_generation()
        with contextlib.suppress(AttributeError):  # AnonymousUser and friends
            user._kith_generation = value
            user._kith_changes = _local["changes"]
    return int(value)


@dataclass
class Holding:
    """What one user holds: permissions, roles' extras, reach and teams."""

    permissions: frozenset[tuple[str, str]] = frozenset()
    role_codes: frozenset[str] = frozenset()
    two_factor: bool = False
    clearance: bool = False
    reach: tuple[int, ...] = ()
    teams: tuple[int, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)
    shared_types: frozenset[int] = frozenset()  # content types with a share to the user or their teams
    sees_all: bool = False  # a role reads every record (auditors)


def _compute(user: Any) -> Holding:
    permissions: set[tuple[str, str]] = set()
    codes: set[str] = set()
    two_factor = clearance = sees_all = False
    for code, perms, tf, cl, everything in Role.objects.filter(users=user.pk).values_list(
        "code", "permissions", "require_two_factor", "sensitive_clearance", "sees_all"
    ):
        codes.add(code)
        two_factor |= tf
        clearance |= cl
        sees_all |= everything
        for item in perms or []:
            object_type, _sep, action = str(item).partition(".")
            if object_type and action:
                permissions.add((object_type, action))
    reach = tuple(Reach.objects.filter(manager=user.pk).values_list("member_id", flat=True))
    if user.pk not in reach:  # the closure always holds the user; be safe if it was never built
        reach = (user.pk, *reach)
    teams: list[int] = []
    team_id = User.objects.filter(pk=user.pk).values_list("team_id", flat=True).first()
    parents = dict(Team.objects.values_list("id", "parent_id"))
    while team_id is not None and team_id not in teams:  # the team and the teams it is part of
        teams.append(team_id)
        team_id = parents.get(team_id)
    defaults = dict(VisibilityDefault.objects.values_list("object_type", "access"))
    grantee = Q(user_id=user.pk) | Q(team_id__in=teams) if teams else Q(user_id=user.pk)
    shared = frozenset(Share.objects.filter(grantee).values_list("content_type_id", flat=True).distinct())
    return Holding(
        frozenset(permissions),
        frozenset(codes),
        two_factor,
        clearance,
        tuple(sorted(reach)),
        tuple(teams),
        defaults,
        shared,
        sees_all,
    )


def holding(user: Any) -> Holding:
    """``user``'s permissions, reach and teams (cached per request, and per generation across requests)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Holding()
    found = getattr(user, "_kith_holding", None)
    if found is not None and getattr(user, "_kith_changes", None) == _local["changes"]:
        return found  # type: ignore[no-any-return]
    key = f"kith.security.holding:{user.pk}:{_generation(user)}"
    found = cache.get(key)
    if found is None:
        found = _compute(user)
        cache.set(key, found, CACHE_SECONDS)
    user._kith_holding = found
    return found


def role_permissions(user: Any) -> frozenset[tuple[str, str]]:
    return holding(user).permissions


def default_access(user: Any, object_type: str) -> str:
    return holding(user).defaults.get(object_type, Access.PRIVATE)


def sees_everything(user: Any, object_type: str, *, write: bool = False) -> bool:
    """Superusers, and everyone when the organisation default opens the type."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    if not write and holding(user).sees_all:
        return True
    access = default_access(user, object_type)
    return access == Access.READ_WRITE or (access == Access.READ and not write)


def visible_q(
    user: Any, object_type: str, *, owner: str = "owner_id", pk: str = "pk", write: bool = False
) -> Q:
    """The condition "``user`` may see (``write``: change) the row": owned by them or anyone below them,
    shared with them or one of their teams, or opened to everyone by the default; never without the
    role permission to view (edit). ``owner``/``pk`` name the row's owner and key (``customer__owner_id``
    and ``customer_id`` for records that follow their customer)."""
    from kith.security.rules import EDIT, VIEW, has_permission

    nothing = Q(**{f"{pk}__in": []})
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return nothing
    if not has_permission(user, object_type, EDIT if write else VIEW):
        return nothing
    if sees_everything(user, object_type, write=write):
        return Q()
    held = holding(user)
    ct = _content_type(object_type)
    # Narrow reach (a representative's few hundred customers): the owner index finds them all and a
    # sort of that handful is cheap. Broad reach (a manager of thousands of owners): the owner term must
    # not drive the query — it would gather and sort most of the table — so it is written so that no
    # index can use it (``owner + 0``) and the query walks the order's own index, checking it per row.
    # (SQLite only: PostgreSQL's planner weighs the owner index against the others from its statistics.)
    narrow = connection.vendor != "sqlite" or _reach_size(user, held, ct) <= NARROW
    column = F(owner) + 0
    if len(held.reach) > 64:  # a big team: the database reads the reach itself (no thousands of parameters)
        members = Reach.objects.filter(manager_id=user.pk).values("member_id")
        owned = Q(**{f"{owner}__in": members}) if narrow else Q(In(column, members))
    elif len(held.reach) > 1:
        owned = Q(**{f"{owner}__in": list(held.reach)}) if narrow else Q(In(column, list(held.reach)))
    else:
        owned = Q(**{owner: user.pk}) if narrow else Q(Exact(column, user.pk))
    if ct.pk not in held.shared_types:  # nothing shared with them: no OR for the planner to mind
        return owned
    shares = Share.objects.filter(content_type=ct)
    grantee = Q(user_id=user.pk)
    if held.teams:
        grantee |= Q(team_id__in=held.teams)
    shares = shares.filter(grantee)
    if write:
        shares = shares.filter(access=ShareAccess.WRITE)
    return owned | Q(**{f"{pk}__in": shares.values("object_id")})


NARROW = 5000  # rows owned within a user's reach up to which the owner index drives their queries
COUNT_CAP = 200_000  # reach sizes are counted up to this (an index-only count, once per ten minutes)


def _reach_size(user: Any, held: Holding, ct: ContentType) -> int:
    """How many rows of ``ct`` the user's reach owns, counted up to COUNT_CAP, remembered for ten
    minutes per user and security generation."""
    memo: dict[int, int] = getattr(user, "_kith_reach_sizes", None) or {}
    if ct.pk in memo:
        return memo[ct.pk]
    key = f"kith.security.reach_size:{user.pk}:{_generation(user)}:{ct.pk}"
    size = cache.get(key)
    if size is None:
        model = ct.model_class()
        if model is None:
            return 0
        owned = model._default_manager.filter(owner_id__in=list(held.reach)).order_by()
        size = owned.values("pk")[:COUNT_CAP].count()
        if ct.pk in held.shared_types:  # shares add rows: count them too (a team share can be large)
            grantee = Q(user_id=user.pk) | Q(team_id__in=held.teams) if held.teams else Q(user_id=user.pk)
            size += Share.objects.filter(grantee, content_type=ct).order_by().values("pk")[:COUNT_CAP].count()
        cache.set(key, size, 600)
    memo[ct.pk] = int(size)
    with contextlib.suppress(AttributeError):
        user._kith_reach_sizes = memo
    return int(size)


def _table_size(ct: ContentType) -> int:
    key = f"kith.security.table_size:{ct.pk}"
    size = cache.get(key)
    if size is None:
        model = ct.model_class()
        size = model._default_manager.order_by().count() if model is not None else 0
        cache.set(key, size, 600)
    return int(size)


def visible_share(user: Any, object_type: str) -> float:
    """Roughly which part of the rows of ``object_type`` ``user`` may see: 1 when everything, 0 when few
    enough (NARROW) that each can be tested, else the fraction. Query planning uses it (search)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return 0.0
    if sees_everything(user, object_type) or connection.vendor != "sqlite":
        return 1.0  # PostgreSQL plans from its own statistics; nothing to count
    ct = _content_type(object_type)
    size = _reach_size(user, holding(user), ct)
    if size <= NARROW:
        return 0.0
    return min(1.0, size / max(1, _table_size(ct)))


def _content_type(object_type: str) -> ContentType:
    from kith.security.rules import object_type as lookup

    model = lookup(object_type).model
    if not model:
        raise LookupError(f"object type {object_type!r} has no model: it is not owned or shared")
    app_label, model_name = model.split(".")
    return ContentType.objects.get_by_natural_key(app_label, model_name.lower())


@dataclass
class Reason:
    user: User
    why: list[str]


def who_can_see(object_type: str, *, owner_id: int | None, object_id: int) -> tuple[str, list[Reason]]:
    """Everyone who may see one row and why (owner, manager of the owner, share, default, administrator).

    Returns (the default's access, the people): with an open default, everyone with the role permission
    sees it; the list then names only those with a more specific reason.
    """
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    reasons: dict[int, list[str]] = {}
    users: dict[int, User] = {}

    def add(user: User, why: str) -> None:
        users[user.pk] = user
        reasons.setdefault(user.pk, []).append(why)

    if owner_id is not None:
        for reach in Reach.objects.filter(member_id=owner_id).select_related("manager").order_by("depth"):
            if reach.depth == 0:
                add(reach.manager, _("owner"))
            else:
                add(
                    reach.manager,
                    ngettext(
                        "manager of the owner (%(n)d level up)",
                        "manager of the owner (%(n)d levels up)",
                        reach.depth,
                    )
                    % {"n": reach.depth},
                )
    ct = _content_type(object_type)
    for share in Share.objects.filter(content_type=ct, object_id=object_id).select_related("user", "team"):
        label = share.get_access_display()
        if share.user is not None:
            add(share.user, _("shared with them (%(access)s)") % {"access": label})
        elif share.team is not None:
            teams = _team_and_below(share.team.pk)
            for member in User.objects.filter(team_id__in=teams, is_active=True):
                add(
                    member,
                    _("member of team %(team)s (%(access)s)") % {"team": share.team.name, "access": label},
                )
    for admin in User.objects.filter(is_superuser=True, is_active=True):
        add(admin, _("administrator"))
    access = (
        VisibilityDefault.objects.filter(object_type=object_type).values_list("access", flat=True).first()
    )
    people = [Reason(users[pk], why) for pk, why in reasons.items()]
    people.sort(key=lambda r: str(r.user).casefold())
    return str(access or Access.PRIVATE), people


def _team_and_below(team_id: int) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Team.objects.values_list("id", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = [], [team_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        todo.extend(children.get(current, []))
    return found


# --- the organisation, for the access-control API --------------------------------------------------------
def team_list() -> QuerySet[Team]:
    """Every team with its parent and members (by user name)."""
    return Team.objects.select_related("parent").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("username"))
    )


def _people() -> QuerySet[User]:
    return User.objects.select_related("team", "manager").prefetch_related(
        Prefetch("roles", queryset=Role.objects.order_by("code"))
    )


def people(
    *,
    team_id: int | None = None,
    role_code: str | None = None,
    active: bool | None = None,
    after: int | None = None,
    limit: int = 50,
) -> list[User]:
    """One page of users in id order (keyset: those with an id above ``after``), with team, manager and
    roles read in the same few queries whatever the page's size."""
    rows = _people()
    if team_id is not None:
        rows = rows.filter(team_id=team_id)
    if role_code:
        rows = rows.filter(roles__code=role_code)
    if active is not None:
        rows = rows.filter(is_active=active)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    return list(rows.order_by("pk")[:limit])


def person(pk: int) -> User | None:
    """One user with their team, manager and roles."""
    return _people().filter(pk=pk).first()


def role_list() -> QuerySet[Role]:
    return Role.objects.annotate(holders=Count("users")).order_by("name")


def visibility_defaults() -> list[tuple[ObjectType, str]]:
    """(object type, access) for every object type whose records have owners; without a row: private."""
    from kith.security.rules import object_types

    current = dict(VisibilityDefault.objects.values_list("object_type", "access"))
    return [(t, current.get(t.key, Access.PRIVATE)) for t in object_types() if t.model]
