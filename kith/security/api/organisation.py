"""Access-control administration API: teams, people (manager, team, roles), roles with their permission
matrix and the visibility defaults — what Settings → Access offers, with the same checks: reading needs
("security", "view"), changing ("security", "administer"). Token area ``access``. Every change goes
through ``kith.security.services``, which the audit trail records."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import (
    KithAPIView,
    error_responses,
    field_error,
    results_of,
    validated,
)
from kith.security import selectors, services
from kith.security.api import serializers as s
from kith.security.models import Role, Team, User
from kith.security.rules import ADMINISTER, VIEW, is_signed_in, require_permission

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class SecurityAccess(BasePermission):
    """The pages' own check (``kith.security.views``): ("security", "view") to read, ("security",
    "administer") to change."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not is_signed_in(request.user):
            return False
        action = VIEW if request.method in SAFE_METHODS else ADMINISTER
        try:
            require_permission(request.user, "security", action)
        except PermissionDenied as exc:
            self.message = str(exc)
            return False
        return True


class _AccessView(KithAPIView):
    """Reading needs ("security", "view"), changing ("security", "administer"), as on Settings → Access;
    an API token needs access:read or access:write."""

    permission_classes = [SecurityAccess]


# --- input to records -------------------------------------------------------------------------------
def _team_or_error(pk: int | None, field: str) -> Team | None:
    if pk is None:
        return None
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise field_error(field, _("There is no team with this id."))
    return team


def _manager_or_error(pk: int | None, person: User) -> User | None:
    """An active user other than ``person`` (the choices the person's page offers)."""
    if pk is None:
        return None
    manager = User.objects.filter(pk=pk, is_active=True).first()
    if manager is None:
        raise field_error("manager", _("There is no active user with this id."))
    if manager.pk == person.pk:
        raise field_error("manager", _("A user cannot be their own manager."))
    return manager


def _roles_or_error(codes: list[str]) -> list[Role]:
    roles = list(Role.objects.filter(code__in=set(codes)))
    unknown = sorted(set(codes) - {r.code for r in roles})
    if unknown:
        raise field_error("roles", _("Unknown role: %(codes)s.") % {"codes": ", ".join(unknown)})
    return roles


# --- teams --------------------------------------------------------------------------------------------
def _team(team_pk: int) -> dict[str, Any]:
    team = selectors.team_list().filter(pk=team_pk).first()
    if team is None:
        raise Http404
    return dict(s.AccessTeamSerializer(team).data)


def _team_for(pk: int) -> Team:
    team = Team.objects.select_related("parent").filter(pk=pk).first()
    if team is None:
        raise Http404
    return team


class TeamListView(_AccessView):
    @extend_schema(
        operation_id="teams_list",
        summary="Every team with its parent and members, by name",
        responses={200: results_of("AccessTeamList", s.AccessTeamSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": s.AccessTeamSerializer(selectors.team_list(), many=True).data})

    @extend_schema(
        operation_id="teams_create",
        request=s.AccessTeamInputSerializer,
        responses={201: s.AccessTeamSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.AccessTeamInputSerializer, request.data)
        team = services.save_team(
            name=data["name"],
            parent=_team_or_error(data.get("parent"), "parent"),
            description=data.get("description", ""),
        )
        return Response(_team(team.pk), status=status.HTTP_201_CREATED)


class TeamDetailView(_AccessView):
    @extend_schema(
        operation_id="teams_retrieve",
        responses={200: s.AccessTeamSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_team(pk))

    @extend_schema(
        operation_id="teams_partial_update",
        description="A team cannot become part of itself or of one of its sub-teams.",
        request=s.AccessTeamUpdateSerializer,
        responses={200: s.AccessTeamSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        team = _team_for(pk)
        data = validated(s.AccessTeamUpdateSerializer, request.data)
        services.save_team(
            team=team,
            name=data.get("name", team.name),
            parent=_team_or_error(data["parent"], "parent") if "parent" in data else team.parent,
            description=data.get("description", team.description),
        )
        return Response(_team(team.pk))

    @extend_schema(
        operation_id="teams_destroy",
        description="Refused (409) while the team has members or sub-teams. Its shares go with it.",
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_team(_team_for(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- people -------------------------------------------------------------------------------------------
class _PeopleQuery(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1)
    role = serializers.CharField(required=False, max_length=50)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    cursor = serializers.IntegerField(required=False, min_value=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)


def _next_url(request: Request, cursor: str | None) -> str | None:
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return f"{request.build_absolute_uri(request.path)}?{params.urlencode()}"


def _person(pk: int) -> User:
    found = selectors.person(pk)
    if found is None:
        raise Http404
    return found


class UserListView(_AccessView):
    @extend_schema(
        operation_id="users_list",
        summary="People with their team, manager and roles, in id order",
        parameters=[
            OpenApiParameter("team", int, description=gettext_lazy("Only the members of this team (id).")),
            OpenApiParameter("role", str, description=gettext_lazy("Only holders of this role (code).")),
            OpenApiParameter(
                "active", bool, description=gettext_lazy("Only active (true) or disabled (false) accounts.")
            ),
            OpenApiParameter("cursor", str, description=gettext_lazy("next_cursor of the previous page.")),
            OpenApiParameter("limit", int, description=gettext_lazy("1 to 200, default 50.")),
        ],
        responses={200: s.AccessUserPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = validated(_PeopleQuery, request.query_params.dict())
        limit = query["limit"]
        rows = selectors.people(
            team_id=query.get("team"),
            role_code=query.get("role"),
            active=query.get("active"),
            after=query.get("cursor"),
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = str(rows[-1].pk) if more and rows else None
        return Response(
            {
                "results": s.AccessUserSerializer(rows, many=True).data,
                "next_cursor": cursor,
                "next": _next_url(request, cursor),
            }
        )


class UserDetailView(_AccessView):
    @extend_schema(
        operation_id="users_retrieve",
        responses={200: s.AccessUserSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.AccessUserSerializer(_person(pk)).data)

    @extend_schema(
        operation_id="users_partial_update",
        summary="Set a person's manager, team and roles (what is left out stays); all or nothing",
        description="A manager chain that would make a circle is refused with an error on manager.",
        request=s.AccessUserInputSerializer,
        responses={200: s.AccessUserSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        person = _person(pk)
        data = validated(s.AccessUserInputSerializer, request.data)
        changes: dict[str, Any] = {}
        if "manager" in data:
            changes["manager"] = _manager_or_error(data["manager"], person)
        if "team" in data:
            changes["team"] = _team_or_error(data["team"], "team")
        if "roles" in data:
            changes["roles"] = _roles_or_error(data["roles"])
        services.set_access(person, actor=request.user, **changes)
        return Response(s.AccessUserSerializer(_person(pk)).data)


# --- roles --------------------------------------------------------------------------------------------
def _role(role_pk: int) -> dict[str, Any]:
    role = selectors.role_list().filter(pk=role_pk).first()
    if role is None:
        raise Http404
    return dict(s.AccessRoleSerializer(role).data)


def _role_for(pk: int) -> Role:
    role = Role.objects.filter(pk=pk).first()
    if role is None:
        raise Http404
    return role


_ROLE_FLAGS = ("require_two_factor", "sensitive_clearance", "is_default", "sees_all")


class RoleListView(_AccessView):
    @extend_schema(
        operation_id="access_roles_list",
        summary="Every role with its permission matrix, by name",
        responses={200: results_of("AccessRoleList", s.AccessRoleSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": s.AccessRoleSerializer(selectors.role_list(), many=True).data})

    @extend_schema(
        operation_id="access_roles_create",
        request=s.AccessRoleInputSerializer,
        responses={201: s.AccessRoleSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.AccessRoleInputSerializer, request.data)
        role = services.save_role(
            code=data["code"],
            name=data["name"],
            permissions=data.get("permissions", []),
            description=data.get("description", ""),
            **{flag: data.get(flag, False) for flag in _ROLE_FLAGS},
        )
        return Response(_role(role.pk), status=status.HTTP_201_CREATED)


class RoleDetailView(_AccessView):
    @extend_schema(
        operation_id="access_roles_retrieve",
        responses={200: s.AccessRoleSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_role(pk))

    @extend_schema(
        operation_id="access_roles_partial_update",
        summary="Change a role (what is left out stays); it takes effect at once",
        request=s.AccessRoleUpdateSerializer,
        responses={200: s.AccessRoleSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        role = _role_for(pk)
        data = validated(s.AccessRoleUpdateSerializer, request.data)
        services.save_role(
            role=role,
            version=data.get("version"),
            code=data.get("code", role.code),
            name=data.get("name", role.name),
            permissions=data.get("permissions", role.permissions or []),
            description=data.get("description", role.description),
            **{flag: data.get(flag, getattr(role, flag)) for flag in _ROLE_FLAGS},
        )
        return Response(_role(pk))

    @extend_schema(
        operation_id="access_roles_destroy",
        description="Refused (409) for a built-in role and for a role somebody holds.",
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_role(_role_for(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- visibility defaults ------------------------------------------------------------------------------
def _visibility(object_type: Any, access: str) -> dict[str, Any]:
    return {"object_type": object_type.key, "label": str(object_type.label), "access": access}


class VisibilityDefaultListView(_AccessView):
    @extend_schema(
        operation_id="visibility_defaults_list",
        summary="Who sees the records of each object type by default (private: owner, their managers, shares)",
        responses={
            200: results_of("VisibilityDefaultList", s.VisibilityDefaultSerializer),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        return Response({"results": [_visibility(t, a) for t, a in selectors.visibility_defaults()]})


class VisibilityDefaultDetailView(_AccessView):
    @extend_schema(
        operation_id="visibility_defaults_update",
        summary="Set the default of one object type; it takes effect at once",
        request=s.VisibilityDefaultInputSerializer,
        responses={200: s.VisibilityDefaultSerializer, **error_responses(400, 401, 403)},
    )
    def put(self, request: Request, object_type: str) -> Response:
        data = validated(s.VisibilityDefaultInputSerializer, request.data)
        services.set_visibility_default(object_type, data["access"])
        found = [(t, a) for t, a in selectors.visibility_defaults() if t.key == object_type]
        return Response(_visibility(*found[0]))
