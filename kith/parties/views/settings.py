"""Admin pages for the catalogues: custom fields, classification trees, relationship types, roles, tags,
and the customer-number pattern. Every page needs ``can_administer_catalogues``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kith.core.forms import apply_service_errors
from kith.parties.forms import (
    CategoryForm,
    CategoryRenameForm,
    CategoryTreeForm,
    CustomFieldDefinitionForm,
    NumberPatternForm,
    RelationshipTypeForm,
    RoleForm,
    TagForm,
)
from kith.parties.selectors import catalogues as read
from kith.parties.services import catalogues as write
from kith.parties.services import numbering
from kith.security.rules import can_administer_catalogues

View = Callable[..., HttpResponse]


def admin_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_administer_catalogues(request.user):
            raise PermissionDenied(_("Only administrators may change the catalogues."))
        return view(request, *args, **kwargs)

    return wrapper


def _saved(request: HttpRequest, text: str) -> None:
    messages.success(request, text)


@admin_only
@require_http_methods(["GET", "POST"])
def settings_index(request: HttpRequest) -> HttpResponse:
    form = NumberPatternForm(request.POST or None, initial={"pattern": numbering.current_pattern()})
    if request.method == "POST" and form.is_valid():
        try:
            numbering.set_pattern(form.cleaned_data["pattern"])
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The customer-number pattern was saved; new customers get numbers like this."))
            return redirect("parties:settings")
    sample = ""
    try:
        pattern = numbering.validate_pattern(numbering.current_pattern())
        sample = pattern.render(1, year=2026, month=1)
    except ValidationError:
        pass
    return render(
        request,
        "parties/settings/index.html",
        {"pattern_form": form, "sample": sample},
        status=400 if form.errors else 200,
    )


# --- custom fields ------------------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def custom_fields(request: HttpRequest) -> HttpResponse:
    form = CustomFieldDefinitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            definition = write.custom_field_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The field “%(label)s” was added.") % {"label": definition.label})
            return redirect("parties:settings_custom_fields")
    return render(
        request,
        "parties/settings/custom_fields.html",
        {"definitions": read.custom_field_definitions(), "form": form},
        status=400 if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(read.custom_field_definitions(), pk=pk)
    initial = {
        "key": definition.key,
        "label": definition.label,
        "field_type": definition.field_type,
        "applies_to": definition.applies_to,
        "required": definition.required,
        "choices": "\n".join(definition.choices or []),
        "min_value": definition.min_value,
        "max_value": definition.max_value,
        "max_length": definition.max_length,
        "pattern": definition.pattern,
        "help_text": definition.help_text,
        "is_sensitive": definition.is_sensitive,
        "position": definition.position,
    }
    form = CustomFieldDefinitionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            write.custom_field_update(actor=request.user, definition=definition, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The field “%(label)s” was saved.") % {"label": definition.label})
            return redirect("parties:settings_custom_fields")
    return render(
        request,
        "parties/settings/custom_field_edit.html",
        {"definition": definition, "form": form},
        status=400 if form.errors else 200,
    )


@admin_only
@require_POST
def custom_field_retire(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(read.custom_field_definitions(), pk=pk)
    active = request.POST.get("active") == "1"
    write.custom_field_retire(actor=request.user, definition=definition, active=active)
    if active:
        _saved(request, _("“%(label)s” is active again.") % {"label": definition.label})
    else:
        _saved(request, _("“%(label)s” is retired; stored values are kept.") % {"label": definition.label})
    return redirect("parties:settings_custom_fields")


# --- classification -------------------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def category_trees(request: HttpRequest) -> HttpResponse:
    form = CategoryTreeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tree = write.category_tree_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The tree “%(name)s” was added.") % {"name": tree.name})
            return redirect("parties:settings_tree", pk=tree.pk)
    return render(
        request,
        "parties/settings/trees.html",
        {"trees": read.category_trees(), "form": form},
        status=400 if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def category_tree(request: HttpRequest, pk: int) -> HttpResponse:
    """One tree: its categories, add a node (top level or under a parent), edit the tree itself."""
    tree = get_object_or_404(read.category_trees(), pk=pk)
    nodes = list(read.categories(tree=tree, include_retired=True))
    active = [n for n in nodes if n.is_active]
    action = request.POST.get("action") if request.method == "POST" else None
    add_form = CategoryForm(request.POST if action == "add" else None, categories=active)
    tree_form = CategoryTreeForm(
        request.POST if action == "tree" else None,
        initial={"name": tree.name, "description": tree.description, "allow_multiple": tree.allow_multiple},
    )
    if action == "add" and add_form.is_valid():
        parent_id = add_form.cleaned_data.get("parent")
        parent = next((n for n in active if str(n.pk) == parent_id), None)
        try:
            write.category_create(
                actor=request.user, tree=tree, name=add_form.cleaned_data["name"], parent=parent
            )
        except ValidationError as exc:
            apply_service_errors(exc, add_form)
        else:
            _saved(request, _("The category was added."))
            return redirect("parties:settings_tree", pk=tree.pk)
    if action == "tree" and tree_form.is_valid():
        try:
            write.category_tree_update(actor=request.user, tree=tree, data=tree_form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, tree_form)
        else:
            _saved(request, _("The tree was saved."))
            return redirect("parties:settings_tree", pk=tree.pk)
    bad = bool(add_form.errors or tree_form.errors)
    return render(
        request,
        "parties/settings/tree.html",
        {"tree": tree, "nodes": nodes, "add_form": add_form, "tree_form": tree_form},
        status=400 if bad else 200,
    )


@admin_only
@require_POST
def category_rename(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(read.categories(include_retired=True), pk=pk)
    form = CategoryRenameForm(request.POST)
    if form.is_valid():
        try:
            write.category_rename(actor=request.user, category=category, name=form.cleaned_data["name"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            _saved(request, _("The category was renamed."))
    else:
        messages.error(request, _("Give the new name."))
    return redirect("parties:settings_tree", pk=category.tree_id)


@admin_only
@require_POST
def category_retire(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(read.categories(include_retired=True), pk=pk)
    active = request.POST.get("active") == "1"
    write.category_retire(actor=request.user, category=category, active=active)
    _saved(request, _("The category is active again.") if active else _("The category is retired."))
    return redirect("parties:settings_tree", pk=category.tree_id)


# --- relationship types, roles, tags -------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def relationship_types(request: HttpRequest) -> HttpResponse:
    form = RelationshipTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            write.relationship_type_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The relationship type was added."))
            return redirect("parties:settings_relationship_types")
    return render(
        request,
        "parties/settings/relationship_types.html",
        {"types": read.relationship_types(include_retired=True), "form": form},
        status=400 if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def relationship_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rel_type = get_object_or_404(read.relationship_types(include_retired=True), pk=pk)
    initial = {
        "code": rel_type.code,
        "name": rel_type.name,
        "inverse_name": rel_type.inverse_name,
        "from_kind": rel_type.from_kind,
        "to_kind": rel_type.to_kind,
        "is_active": rel_type.is_active,
    }
    form = RelationshipTypeForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            write.relationship_type_update(actor=request.user, type=rel_type, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The relationship type was saved."))
            return redirect("parties:settings_relationship_types")
    return render(
        request,
        "parties/settings/edit.html",
        {
            "form": form,
            "title": _("Relationship type “%(name)s”") % {"name": rel_type.name},
            "back": "parties:settings_relationship_types",
        },
        status=400 if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def roles(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            write.role_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The role was added."))
            return redirect("parties:settings_roles")
    return render(
        request,
        "parties/settings/roles.html",
        {"roles": read.roles(include_retired=True), "form": form},
        status=400 if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(read.roles(include_retired=True), pk=pk)
    initial = {
        "code": role.code,
        "name": role.name,
        "description": role.description,
        "is_active": role.is_active,
    }
    form = RoleForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            write.role_update(actor=request.user, role=role, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The role was saved."))
            return redirect("parties:settings_roles")
    return render(
        request,
        "parties/settings/edit.html",
        {"form": form, "title": _("Role “%(name)s”") % {"name": role.name}, "back": "parties:settings_roles"},
        status=400 if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def tags(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            write.tag_create(
                actor=request.user, name=form.cleaned_data["name"], color=form.cleaned_data["color"]
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _saved(request, _("The tag was added."))
            return redirect("parties:settings_tags")
    return render(
        request,
        "parties/settings/tags.html",
        {"tags": read.tags(), "form": form},
        status=400 if form.errors else 200,
    )


@admin_only
@require_POST
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(read.tags(), pk=pk)
    write.tag_delete(actor=request.user, tag=tag)
    _saved(request, _("The tag “%(name)s” was deleted.") % {"name": tag.name})
    return redirect("parties:settings_tags")
