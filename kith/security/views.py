"""Pages of the organisation and access control: teams, who reports to whom, roles with their permission
matrix, and the organisation-wide visibility defaults. Viewing needs ("security", "view"), changing
("security", "administer")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kith.core.forms import apply_service_errors
from kith.security import services
from kith.security.forms import RoleForm, TeamForm, UserAccessForm, VisibilityForm, matrix
from kith.security.models import Role, Team, User, VisibilityDefault
from kith.security.rules import ADMINISTER, VIEW, has_permission, require_permission


def _can_change(request: HttpRequest) -> bool:
    return has_permission(request.user, "security", ADMINISTER)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, failed: bool = False
) -> HttpResponse:
    context.setdefault("can_change", _can_change(request))
    return render(request, template, context, status=400 if failed else 200)


@login_required
@require_http_methods(["GET", "POST"])
def organisation(request: HttpRequest) -> HttpResponse:
    """Teams and people: who is in which team and reports to whom."""
    require_permission(request.user, "security", VIEW)
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        require_permission(request.user, "security", ADMINISTER)
        if form.is_valid():
            try:
                services.save_team(**form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("The team was added."))
                return redirect("security:organisation")
    teams = list(Team.objects.annotate(size=Count("members")).select_related("parent"))
    people = list(
        User.objects.select_related("team", "manager").prefetch_related("roles").order_by("username")
    )
    return _render(
        request,
        "security/organisation.html",
        {"teams": _tree(teams), "people": people, "team_form": form},
        failed=bool(form.errors),
    )


def _tree(teams: Sequence[Team]) -> list[tuple[Team, int]]:
    """Teams in tree order with their depth, for an indented list."""
    children: dict[int | None, list[Team]] = {}
    for t in teams:
        children.setdefault(t.parent_id, []).append(t)
    out: list[tuple[Team, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for t in sorted(children.get(parent, []), key=lambda x: x.name.casefold()):
            out.append((t, depth))
            if depth < 50:
                walk(t.pk, depth + 1)

    walk(None, 0)
    return out


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, "security", ADMINISTER)
    team = get_object_or_404(Team, pk=pk)
    form = TeamForm(
        request.POST or None,
        initial={"name": team.name, "parent": team.parent_id, "description": team.description},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_team(team=team, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("The team was saved."))
            return redirect("security:organisation")
    return _render(request, "security/team_edit.html", {"team": team, "form": form}, failed=bool(form.errors))


@login_required
@require_http_methods(["GET", "POST"])
def user_access(request: HttpRequest, pk: int) -> HttpResponse:
    """One person's team, manager and roles."""
    require_permission(request.user, "security", VIEW)
    person = get_object_or_404(User, pk=pk)
    form = UserAccessForm(
        request.POST or None,
        user=person,
        initial={"team": person.team_id, "manager": person.manager_id, "roles": list(person.roles.all())},
    )
    if request.method == "POST":
        require_permission(request.user, "security", ADMINISTER)
        if form.is_valid():
            try:
                services.set_manager(person, form.cleaned_data["manager"])
                services.set_team(person, form.cleaned_data["team"])
                services.set_roles(person, form.cleaned_data["roles"])
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(
                    request, _("%(user)s was saved; it takes effect at once.") % {"user": person}
                )
                return redirect("security:organisation")
    chain: list[User] = []
    current = person.manager
    while current is not None and current not in chain and len(chain) < 64:
        chain.append(current)
        current = current.manager
    reports = User.objects.filter(manager=person).order_by("username")
    return _render(
        request,
        "security/user_access.html",
        {"person": person, "form": form, "chain": chain, "reports": reports},
        failed=bool(form.errors),
    )


@login_required
def roles(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "security", VIEW)
    rows = Role.objects.annotate(holders=Count("users")).order_by("name")
    return _render(request, "security/roles.html", {"roles": rows})


@login_required
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_permission(request.user, "security", VIEW)
    role = get_object_or_404(Role, pk=pk) if pk else None
    initial: dict[str, Any] = {}
    if role is not None:
        initial = {
            "code": role.code,
            "name": role.name,
            "description": role.description,
            "require_two_factor": role.require_two_factor,
            "sensitive_clearance": role.sensitive_clearance,
            "is_default": role.is_default,
            "sees_all": role.sees_all,
            "version": role.version,
        }
    form = RoleForm(request.POST or None, initial=initial)
    selected = (
        set(request.POST.getlist("perm"))
        if request.method == "POST"
        else set((role and role.permissions) or [])
    )
    if request.method == "POST":
        require_permission(request.user, "security", ADMINISTER)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version", None)
            try:
                saved = services.save_role(role=role, version=version, permissions=sorted(selected), **data)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(
                    request, _("The role %(name)s was saved; it takes effect at once.") % {"name": saved}
                )
                return redirect("security:roles")
    return _render(
        request,
        "security/role_edit.html",
        {"role": role, "form": form, "matrix": matrix(selected)},
        failed=bool(form.errors),
    )


@login_required
@require_http_methods(["GET", "POST"])
def visibility(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "security", VIEW)
    current = dict(VisibilityDefault.objects.values_list("object_type", "access"))
    form = VisibilityForm(request.POST or None, current=current)
    if request.method == "POST":
        require_permission(request.user, "security", ADMINISTER)
        if form.is_valid():
            for key, access in form.cleaned_data.items():
                if current.get(key, "private") != access:
                    services.set_visibility_default(key, access)
            messages.success(request, _("The visibility defaults were saved; they take effect at once."))
            return redirect("security:visibility")
    return _render(request, "security/visibility.html", {"form": form}, failed=bool(form.errors))
