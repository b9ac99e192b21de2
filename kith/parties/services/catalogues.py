"""Admin writes to the catalogues: custom fields, classification trees, tags, roles, relationship types.

Editing or retiring a definition never touches stored values: retired entries disappear from forms but
their values stay on the customers and come back if the entry is reactivated.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kith.parties.choices import CustomFieldType, KindScope
from kith.parties.models import (
    Category,
    CategoryTree,
    CustomFieldDefinition,
    PartyRole,
    RelationshipType,
    Tag,
)
from kith.parties.services.access import administers_catalogues

_KEY = re.compile(r"^[a-z](?:_?[a-z0-9]){0,58}$")  # no "__": keys are used in JSON lookups
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_CHOICE_TYPES = (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE)
_NUMBER_TYPES = (CustomFieldType.INTEGER, CustomFieldType.DECIMAL)
_TEXT_TYPES = (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT)


def _required_text(data: dict[str, Any], field: str, errors: dict[str, list[str]], limit: int) -> str:
    value = str(data.get(field) or "").strip()
    if not value:
        errors[field] = [_("This field is required.")]
    elif len(value) > limit:
        errors[field] = [_("At most %(limit)d characters.") % {"limit": limit}]
    return value


def _decimal(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            raise InvalidOperation
        return number
    except InvalidOperation:
        errors[field] = [_("Enter a number.")]
        return None


def _clean_custom_field(data: dict[str, Any], *, instance: CustomFieldDefinition | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if instance is None:
        key = str(data.get("key") or "").strip().lower()
        if not _KEY.match(key):
            errors["key"] = [_("Use lower-case letters, digits and underscores, starting with a letter.")]
        elif CustomFieldDefinition.objects.filter(key=key).exists():
            errors["key"] = [_("A custom field with this key exists already (perhaps retired).")]
        values["key"] = key
        field_type = str(data.get("field_type") or "")
        if field_type not in CustomFieldType.values:
            errors["field_type"] = [_("Choose a field type.")]
        values["field_type"] = field_type
        applies_to = str(data.get("applies_to") or KindScope.ANY)
        if applies_to not in KindScope.values:
            errors["applies_to"] = [_("Choose persons, companies or both.")]
        values["applies_to"] = applies_to
    else:
        field_type = instance.field_type
        for frozen in ("key", "field_type", "applies_to"):
            if frozen in data and str(data[frozen]) != str(getattr(instance, frozen)):
                errors[frozen] = [
                    _("This cannot be changed once the field exists; stored values depend on it.")
                ]
    if instance is None or "label" in data:
        values["label"] = _required_text(data, "label", errors, 120)
    for flag in ("required", "is_active", "is_sensitive"):
        if flag in data:
            values[flag] = bool(data[flag])
    if "help_text" in data:
        values["help_text"] = str(data.get("help_text") or "").strip()[:300]
    if "position" in data:
        try:
            values["position"] = max(0, int(data.get("position") or 0))
        except (TypeError, ValueError):
            errors["position"] = [_("Enter a whole number.")]
    if "choices" in data or (instance is None and field_type in _CHOICE_TYPES):
        raw = data.get("choices") or []
        if isinstance(raw, str):
            raw = raw.replace(",", "\n").splitlines()
        choices = [str(c).strip() for c in raw if str(c).strip()]
        if field_type in _CHOICE_TYPES and not choices:
            errors["choices"] = [_("Give at least one choice.")]
        if len(set(choices)) != len(choices):
            errors["choices"] = [_("Each choice may appear only once.")]
        # Values stored under a removed choice stay on the customers; new input must use the new list.
        values["choices"] = choices if field_type in _CHOICE_TYPES else []
    if "min_value" in data:
        values["min_value"] = (
            _decimal(data.get("min_value"), "min_value", errors) if field_type in _NUMBER_TYPES else None
        )
    if "max_value" in data:
        values["max_value"] = (
            _decimal(data.get("max_value"), "max_value", errors) if field_type in _NUMBER_TYPES else None
        )
    low = values.get("min_value", instance.min_value if instance else None)
    high = values.get("max_value", instance.max_value if instance else None)
    if low is not None and high is not None and low > high:
        errors["max_value"] = [_("The maximum is below the minimum.")]
    if "max_length" in data:
        raw_len = data.get("max_length")
        if raw_len in (None, "") or field_type not in _TEXT_TYPES:
            values["max_length"] = None
        else:
            try:
                values["max_length"] = int(raw_len)
                if values["max_length"] < 1:
                    raise ValueError
            except (TypeError, ValueError):
                errors["max_length"] = [_("Enter a positive whole number.")]
    if "pattern" in data:
        pattern = str(data.get("pattern") or "").strip()
        if pattern and field_type in _TEXT_TYPES:
            try:
                re.compile(pattern)
            except re.error as exc:
                errors["pattern"] = [_("Not a valid regular expression: %(error)s") % {"error": exc}]
        values["pattern"] = pattern if field_type in _TEXT_TYPES else ""
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
@administers_catalogues
def custom_field_create(*, actor: Any, data: dict[str, Any]) -> CustomFieldDefinition:
    # a sensitive field's stored values are encrypted by a job (``kith.parties.sensitive``)
    return CustomFieldDefinition.objects.create(**_clean_custom_field(data, instance=None))


@transaction.atomic
@administers_catalogues
def custom_field_update(
    *, actor: Any, definition: CustomFieldDefinition, data: dict[str, Any]
) -> CustomFieldDefinition:
    for field, value in _clean_custom_field(data, instance=definition).items():
        setattr(definition, field, value)
    definition.save()
    return definition


@transaction.atomic
@administers_catalogues
def custom_field_retire(
    *, actor: Any, definition: CustomFieldDefinition, active: bool = False
) -> CustomFieldDefinition:
    definition.is_active = active
    definition.save(update_fields=["is_active", "updated_at"])
    return definition


@transaction.atomic
@administers_catalogues
def category_tree_create(*, actor: Any, data: dict[str, Any]) -> CategoryTree:
    errors: dict[str, list[str]] = {}
    name = _required_text(data, "name", errors, 100)
    if name and CategoryTree.objects.filter(name__iexact=name).exists():
        errors["name"] = [_("A classification tree with this name exists already.")]
    if errors:
        raise ValidationError(errors)
    return CategoryTree.objects.create(
        name=name,
        description=str(data.get("description") or "").strip()[:300],
        allow_multiple=bool(data.get("allow_multiple", True)),
    )


@transaction.atomic
@administers_catalogues
def category_tree_update(*, actor: Any, tree: CategoryTree, data: dict[str, Any]) -> CategoryTree:
    errors: dict[str, list[str]] = {}
    if "name" in data:
        name = _required_text(data, "name", errors, 100)
        if name and CategoryTree.objects.filter(name__iexact=name).exclude(pk=tree.pk).exists():
            errors["name"] = [_("A classification tree with this name exists already.")]
        tree.name = name
    if errors:
        raise ValidationError(errors)
    if "description" in data:
        tree.description = str(data.get("description") or "").strip()[:300]
    if "allow_multiple" in data:
        tree.allow_multiple = bool(data["allow_multiple"])
    tree.save()
    return tree


def _category_path(parent: Category | None, name: str) -> str:
    return f"{parent.path}/{name}" if parent else name


@transaction.atomic
@administers_catalogues
def category_create(*, actor: Any, tree: CategoryTree, name: str, parent: Category | None = None) -> Category:
    errors: dict[str, list[str]] = {}
    name = _required_text({"name": name}, "name", errors, 100)
    if "/" in name:
        errors["name"] = [_("A category name cannot contain “/”.")]
    if parent is not None and parent.tree_id != tree.pk:
        errors["parent"] = [_("The parent belongs to another tree.")]
    if parent is not None and parent.depth >= 8:
        errors["parent"] = [_("Trees are at most nine levels deep.")]
    path = _category_path(parent, name)
    if not errors and Category.objects.filter(tree=tree, path__iexact=path).exists():
        errors["name"] = [_("This category exists already at this place.")]
    if errors:
        raise ValidationError(errors)
    return Category.objects.create(
        tree=tree, parent=parent, name=name, path=path, depth=(parent.depth + 1) if parent else 0
    )


@transaction.atomic
@administers_catalogues
def category_rename(*, actor: Any, category: Category, name: str) -> Category:
    """Rename a node; every descendant's path follows. Customers keep their classification."""
    errors: dict[str, list[str]] = {}
    name = _required_text({"name": name}, "name", errors, 100)
    if "/" in name:
        errors["name"] = [_("A category name cannot contain “/”.")]
    new_path = _category_path(category.parent, name)
    if (
        not errors
        and Category.objects.filter(tree=category.tree, path__iexact=new_path)
        .exclude(pk=category.pk)
        .exists()
    ):
        errors["name"] = [_("This category exists already at this place.")]
    if errors:
        raise ValidationError(errors)
    old_prefix = category.path + "/"
    descendants = list(Category.objects.filter(tree=category.tree, path__startswith=old_prefix))
    category.name, category.path = name, new_path
    category.save()
    for node in descendants:
        node.path = new_path + "/" + node.path[len(old_prefix) :]
    Category.objects.bulk_update(descendants, ["path"])
    return category


@transaction.atomic
@administers_catalogues
def category_retire(*, actor: Any, category: Category, active: bool = False) -> Category:
    category.is_active = active
    category.save(update_fields=["is_active", "updated_at"])
    return category


@transaction.atomic
def tag_create(*, actor: Any, name: str, color: str = "#6b7280") -> Tag:
    errors: dict[str, list[str]] = {}
    name = _required_text({"name": name}, "name", errors, 60)
    if name and Tag.objects.filter(name_key=name.casefold()).exists():
        errors["name"] = [_("This tag exists already.")]
    if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        errors["color"] = [_("Use a colour like #1f6feb.")]
    if errors:
        raise ValidationError(errors)
    return Tag.objects.create(name=name, color=color or "#6b7280")


@transaction.atomic
@administers_catalogues
def tag_delete(*, actor: Any, tag: Tag) -> None:
    tag.delete()


def _new_code(data: dict[str, Any], model: Any, errors: dict[str, list[str]], taken: str) -> str:
    """The code of a new catalogue entry: well formed and not used yet."""
    code = str(data.get("code") or "").strip().lower()
    if not _CODE.match(code):
        errors["code"] = [_("Use lower-case letters, digits, “-” and “_”.")]
    elif model.objects.filter(code=code).exists():
        errors["code"] = [taken]
    return code


def _clean_role(data: dict[str, Any], *, instance: PartyRole | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if instance is None:
        values["code"] = _new_code(data, PartyRole, errors, _("A role with this code exists already."))
    if instance is None or "name" in data:
        values["name"] = _required_text(data, "name", errors, 100)
    if "description" in data:
        values["description"] = str(data.get("description") or "").strip()[:300]
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
@administers_catalogues
def role_create(*, actor: Any, data: dict[str, Any]) -> PartyRole:
    return PartyRole.objects.create(**_clean_role(data, instance=None))


@transaction.atomic
@administers_catalogues
def role_update(*, actor: Any, role: PartyRole, data: dict[str, Any]) -> PartyRole:
    for field, value in _clean_role(data, instance=role).items():
        setattr(role, field, value)
    role.save()
    return role


def _clean_relationship_type(data: dict[str, Any], *, instance: RelationshipType | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if instance is None:
        values["code"] = _new_code(
            data, RelationshipType, errors, _("A relationship type with this code exists already.")
        )
    for field in ("name", "inverse_name"):
        if instance is None or field in data:
            values[field] = _required_text(data, field, errors, 100)
    for side in ("from_kind", "to_kind"):
        if side in data or instance is None:
            value = str(data.get(side) or KindScope.ANY)
            if value not in KindScope.values:
                errors[side] = [_("Choose persons, companies or both.")]
            if instance is not None and value != getattr(instance, side) and instance.relationships.exists():
                errors[side] = [_("Relationships of this type exist; the sides can no longer change.")]
            values[side] = value
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
@administers_catalogues
def relationship_type_create(*, actor: Any, data: dict[str, Any]) -> RelationshipType:
    return RelationshipType.objects.create(**_clean_relationship_type(data, instance=None))


@transaction.atomic
@administers_catalogues
def relationship_type_update(*, actor: Any, type: RelationshipType, data: dict[str, Any]) -> RelationshipType:
    for field, value in _clean_relationship_type(data, instance=type).items():
        setattr(type, field, value)
    try:
        with transaction.atomic():
            type.save()
    except IntegrityError as exc:  # pragma: no cover - guarded above
        raise ValidationError({"code": [_("A relationship type with this code exists already.")]}) from exc
    return type
