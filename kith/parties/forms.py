"""Web forms of the parties domain. They check the shape of the input; the services enforce the rules.

``kith.core.forms.apply_service_errors`` puts a service's ``ValidationError`` (keys such as ``family_name``,
``phones.0.number`` or ``custom.<key>``) onto the matching form fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from kith.parties.choices import (
    DERIVED_DATE_KINDS,
    AddressLabel,
    Channel,
    CompanySize,
    CustomerKind,
    CustomerStatus,
    CustomFieldType,
    EmailLabel,
    Gender,
    InteractionKind,
    KindScope,
    MaritalStatus,
    Outcome,
    PhoneLabel,
    Source,
    SpecialDateKind,
)
from kith.parties.models import Category, CustomFieldDefinition, PartyRole, RelationshipType
from kith.parties.services.contact_points import format_phone

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


def user_choices(users: Iterable[Any], *, blank: Any = None) -> list[tuple[str, str]]:
    choices = [(str(u.pk), str(u)) for u in users]
    return ([("", str(blank))] if blank is not None else []) + choices


def category_choices(categories: Iterable[Category]) -> list[tuple[Any, Any]]:
    """Categories grouped by tree for a ``<select>`` with ``<optgroup>``s."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for cat in categories:
        label = "\u2003" * cat.depth + cat.name
        groups.setdefault(cat.tree.name, []).append((str(cat.pk), label))
    return list(groups.items())


# --- customers -------------------------------------------------------------------------------------


class PhoneRowForm(forms.Form):
    label = forms.ChoiceField(
        label=_("Label"), choices=PhoneLabel.choices, initial=PhoneLabel.MOBILE, required=False
    )
    number = forms.CharField(
        label=_("Phone number"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    extension = forms.CharField(label=_("Extension"), max_length=10, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("number") or "").strip()


class EmailRowForm(forms.Form):
    label = forms.ChoiceField(
        label=_("Label"), choices=EmailLabel.choices, initial=EmailLabel.WORK, required=False
    )
    address = forms.CharField(
        label=_("Email address"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "email"}),
    )
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("address") or "").strip()


class AddressRowForm(forms.Form):
    label = forms.ChoiceField(
        label=_("Label"), choices=AddressLabel.choices, initial=AddressLabel.OFFICE, required=False
    )
    line1 = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    region = forms.CharField(label=_("Region / province"), max_length=100, required=False)
    country = forms.CharField(label=_("Country (ISO code)"), max_length=2, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def is_blank(self) -> bool:
        keys = ("line1", "line2", "postal_code", "city", "region", "country")
        return not any((self.cleaned_data.get(k) or "").strip() for k in keys)


PhoneFormSet = formset_factory(PhoneRowForm, extra=1, can_delete=True, max_num=20, validate_max=True)
EmailFormSet = formset_factory(EmailRowForm, extra=1, can_delete=True, max_num=20, validate_max=True)
AddressFormSet = formset_factory(AddressRowForm, extra=1, can_delete=True, max_num=10, validate_max=True)
CONTACT_FORMSETS: dict[str, type[BaseFormSet]] = {
    "phones": PhoneFormSet,
    "emails": EmailFormSet,
    "addresses": AddressFormSet,
}


def formset_items(formset: BaseFormSet) -> tuple[list[dict[str, Any]], list[int]]:
    """The non-blank, non-deleted rows as service input, and the formset index each came from."""
    items: list[dict[str, Any]] = []
    rows: list[int] = []
    for index, row in enumerate(formset.forms):
        data = getattr(row, "cleaned_data", None)
        if not data or data.get("DELETE") or row.is_blank():
            continue
        items.append({k: v for k, v in data.items() if k != "DELETE"})
        rows.append(index)
    return items, rows


PERSON_FIELDS = ("given_name", "family_name", "gender", "birth_date", "marital_status", "id_document_number")
COMPANY_FIELDS = (
    "legal_name",
    "short_name",
    "industry",
    "founded_date",
    "registration_number",
    "company_size",
    "annual_revenue",
    "annual_revenue_currency",
)
COMMON_FIELDS = ("display_name", "status", "owner", "source", "channel", "notes")


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    """A form field for one custom-field definition. Values are checked by the service."""
    field = _custom_form_field(definition)
    # "required" is the service's rule; the form only shows it (an empty value comes back as a field error).
    field.show_required = definition.required  # type: ignore[attr-defined]
    if definition.required and definition.field_type != CustomFieldType.MULTI_CHOICE:
        field.widget.attrs["aria-required"] = "true"
    return field


def _custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    common: dict[str, Any] = {"label": definition.label, "required": False, "help_text": definition.help_text}
    kind = definition.field_type
    if kind == CustomFieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in (CustomFieldType.INTEGER, CustomFieldType.DECIMAL):
        mode = "numeric" if kind == CustomFieldType.INTEGER else "decimal"
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": mode}), **common)
    if kind == CustomFieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomFieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=_blank("—") + [(c, c) for c in definition.choices], **common)
    if kind == CustomFieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == CustomFieldType.URL:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "url"}), **common)
    if kind == CustomFieldType.EMAIL:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "email"}), **common)
    return forms.CharField(**common)


class CustomerForm(forms.Form):
    """Master data, custom fields and classification of one person or company."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to build it from the names."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=CustomerStatus.choices, initial="prospect")
    owner = forms.ChoiceField(label=_("Account manager"), required=False)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, required=False)
    channel = forms.CharField(label=_("Channel"), max_length=100, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_WIDGET)
    marital_status = forms.ChoiceField(
        label=_("Marital status"), choices=MaritalStatus.choices, required=False
    )
    id_document_number = forms.CharField(label=_("ID document number"), max_length=60, required=False)

    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    short_name = forms.CharField(label=_("Short name"), max_length=100, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    founded_date = forms.DateField(label=_("Founded"), required=False, widget=DATE_WIDGET)
    registration_number = forms.CharField(label=_("Registration number"), max_length=60, required=False)
    company_size = forms.ChoiceField(label=_("Size"), choices=CompanySize.choices, required=False)
    annual_revenue = forms.DecimalField(
        label=_("Annual revenue"), required=False, max_digits=18, decimal_places=2, min_value=0
    )
    annual_revenue_currency = forms.CharField(
        label=_("Revenue currency"), max_length=3, required=False, widget=forms.TextInput(attrs={"size": 3})
    )

    categories = forms.MultipleChoiceField(label=_("Categories"), required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separate tags with commas.")
    )
    roles = forms.MultipleChoiceField(label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        kind: str,
        definitions: Sequence[CustomFieldDefinition],
        owners: Iterable[Any],
        categories: Iterable[Category],
        roles: Iterable[PartyRole],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        drop = COMPANY_FIELDS if kind == CustomerKind.PERSON else PERSON_FIELDS
        for name in drop:
            del self.fields[name]
        self.fields["owner"].choices = user_choices(owners, blank=_("Nobody"))  # type: ignore[attr-defined]
        self.fields["categories"].choices = category_choices(categories)  # type: ignore[attr-defined]
        self.fields["categories"].widget.attrs["size"] = 6
        self.fields["roles"].choices = [(str(r.pk), r.name) for r in roles]  # type: ignore[attr-defined]
        self.custom_names: list[str] = []
        for definition in definitions:
            name = f"cf_{definition.key}"
            self.fields[name] = custom_form_field(definition)
            self.custom_names.append(name)
        self.master_names = [n for n in (*COMMON_FIELDS, *PERSON_FIELDS, *COMPANY_FIELDS) if n in self.fields]

    def restrict(self, view: Any, current: dict[str, Any]) -> None:
        """Apply the user's field view (``kith.security.masking``): hidden fields go; read-only and masked
        ones are shown (masked: as masked text) but disabled and never sent to the service, which keeps
        the stored value. ``current`` holds the stored values as form initial values."""
        self.locked: set[str] = set()
        for name in list(self.fields):
            if name in ("version", "categories", "tags", "roles"):
                continue
            field_name = f"custom.{name[3:]}" if name.startswith("cf_") else name
            if not view.shows(field_name):
                del self.fields[name]
                self.custom_names = [n for n in self.custom_names if n != name]
                self.master_names = [n for n in self.master_names if n != name]
                continue
            if view.can_write(field_name):
                continue
            field = self.fields[name]
            self.locked.add(name)
            if view.is_masked(field_name):
                self.fields[name] = forms.CharField(
                    label=field.label,
                    required=False,
                    disabled=True,
                    help_text=_("Masked: ask for access to see or change it."),
                )
                self.initial[name] = view.display(field_name, current.get(name))
            else:
                field.disabled = True
                field.help_text = _("Read-only for you.")
                self.initial[name] = current.get(name)

    # Field groups for the template.
    def kind_fields(self) -> list[forms.BoundField]:
        names = PERSON_FIELDS if self.kind == CustomerKind.PERSON else COMPANY_FIELDS
        return [self[n] for n in names if n in self.fields]

    def common_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("display_name", "status", "owner", "source", "channel") if n in self.fields]

    def custom_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.custom_names]

    def master_data(self) -> dict[str, Any]:
        locked: set[str] = getattr(self, "locked", set())
        data = {name: self.cleaned_data.get(name) for name in self.master_names if name not in locked}
        for name, value in list(data.items()):
            if value is None and name not in ("birth_date", "founded_date", "annual_revenue", "owner"):
                data[name] = ""
        return data

    def custom_data(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        locked: set[str] = getattr(self, "locked", set())
        for name in self.custom_names:
            if name in locked:
                continue
            value = self.cleaned_data.get(name)
            result[name[3:]] = value
        return result

    def tag_names(self) -> list[str]:
        return [t.strip() for t in (self.cleaned_data.get("tags") or "").split(",") if t.strip()]


def customer_initial(customer: Any, definitions: Sequence[CustomFieldDefinition]) -> dict[str, Any]:
    """The edit form's initial values from a customer loaded with ``selectors.customer_page``."""
    initial: dict[str, Any] = {
        name: getattr(customer, name) for name in (*COMMON_FIELDS, *PERSON_FIELDS, *COMPANY_FIELDS)
    }
    initial["owner"] = str(customer.owner_id or "")
    initial["categories"] = [str(c.pk) for c in customer.categories.all()]
    initial["roles"] = [str(r.pk) for r in customer.roles.all()]
    initial["tags"] = ", ".join(t.name for t in customer.tags.all())
    initial["version"] = customer.version
    for definition in definitions:
        value = (customer.custom_data or {}).get(definition.key)
        if value is not None:
            initial[f"cf_{definition.key}"] = value
    return initial


def contact_initial(customer: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        "phones": [
            {
                "label": p.label,
                "number": format_phone(p.number),
                "extension": p.extension,
                "is_primary": p.is_primary,
            }
            for p in customer.phones.all()
        ],
        "emails": [
            {"label": e.label, "address": e.address, "is_primary": e.is_primary}
            for e in customer.emails.all()
        ],
        "addresses": [
            {
                "label": a.label,
                "line1": a.line1,
                "line2": a.line2,
                "postal_code": a.postal_code,
                "city": a.city,
                "region": a.region,
                "country": a.country,
                "is_primary": a.is_primary,
            }
            for a in customer.addresses.all()
        ],
    }


class CustomerFilterForm(forms.Form):
    """Renders the list filters. The values are read and checked by ``CustomerFilters.from_params``."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, number, phone or email"),
                "autocomplete": "off",
            }
        ),
    )
    kind = forms.CharField(label=_("Kind"), required=False)
    status = forms.CharField(label=_("Status"), required=False)
    owner = forms.CharField(label=_("Account manager"), required=False)
    category = forms.CharField(label=_("Category"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False)
    role = forms.CharField(label=_("Role"), required=False)
    created_from = forms.CharField(
        label=_("Created from"), required=False, widget=forms.DateInput({"type": "date"})
    )
    created_to = forms.CharField(
        label=_("Created until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    updated_from = forms.CharField(
        label=_("Updated from"), required=False, widget=forms.DateInput({"type": "date"})
    )
    updated_to = forms.CharField(
        label=_("Updated until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    sort = forms.CharField(label=_("Sort by"), required=False)

    SORT_CHOICES = [
        ("", _("Automatic: by name, newest first when searching")),
        ("name", _("Name A–Z")),
        ("-name", _("Name Z–A")),
        ("number", _("Number ascending")),
        ("-number", _("Number descending")),
        ("-created", _("Newest first")),
        ("created", _("Oldest first")),
        ("-updated", _("Recently updated")),
        ("updated", _("Least recently updated")),
    ]

    def __init__(
        self,
        *args: Any,
        owners: Iterable[Any],
        categories: Iterable[Category],
        roles: Iterable[PartyRole],
        filterable: Sequence[CustomFieldDefinition],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        any_label = _("Any")
        self.fields["kind"].widget = forms.Select(choices=_blank(any_label) + list(CustomerKind.choices))
        self.fields["status"].widget = forms.Select(choices=_blank(any_label) + list(CustomerStatus.choices))
        self.fields["owner"].widget = forms.Select(choices=user_choices(owners, blank=any_label))
        self.fields["category"].widget = forms.Select(
            choices=_blank(any_label) + category_choices(categories)
        )
        self.fields["role"].widget = forms.Select(
            choices=_blank(any_label) + [(str(r.pk), r.name) for r in roles]
        )
        self.fields["sort"].widget = forms.Select(choices=self.SORT_CHOICES)
        self.custom_names: list[str] = []
        for definition in filterable:
            name = f"cf_{definition.key}"
            self.fields[name] = forms.CharField(
                label=definition.label,
                required=False,
                widget=forms.Select(choices=_blank(any_label) + [(c, c) for c in definition.choices]),
            )
            self.custom_names.append(name)

    def filter_fields(self) -> list[forms.BoundField]:
        names = ["kind", "status", "owner", "category", "tag", "role", *self.custom_names]
        names += ["created_from", "created_to", "updated_from", "updated_to", "sort"]
        return [self[n] for n in names]

    def active_count(self) -> int:
        data = self.data
        keys = ["kind", "status", "owner", "category", "tag", "role", *self.custom_names]
        keys += ["created_from", "created_to", "updated_from", "updated_to"]
        return sum(1 for k in keys if data.get(k))


# --- customer page actions ----------------------------------------------------------------------


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=InteractionKind.choices, initial=InteractionKind.VISIT_BY_MANAGER
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=_blank(_("Not specified")) + list(Channel.choices), required=False
    )
    content = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, required=False)
    follow_up_date = forms.DateField(label=_("Follow up on"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "visit_%s")  # unique ids beside the page's other forms
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("occurred_at") is None:
            data.pop("occurred_at", None)
        return data


class RelationshipForm(forms.Form):
    """``direction`` is ``<type id>:from`` when this customer is the "from" side, ``:to`` otherwise."""

    type = forms.ChoiceField(label=_("This customer"))
    other = forms.CharField(label=_("Other customer"), max_length=40, widget=forms.RadioSelect)
    start_date = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    end_date = forms.DateField(label=_("Until"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, types: Iterable[RelationshipType], kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "rel_%s")
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = []
        for rel_type in types:
            if rel_type.from_kind in (KindScope.ANY, kind):
                choices.append((f"{rel_type.pk}:from", rel_type.name))
            if not rel_type.is_symmetric and rel_type.to_kind in (KindScope.ANY, kind):
                choices.append((f"{rel_type.pk}:to", rel_type.inverse_name))
        choices.sort(key=lambda c: c[1].casefold())
        self.fields["type"].choices = choices  # type: ignore[attr-defined]
        self.type_map = {t.pk: t for t in types}

    def clean_type(self) -> tuple[RelationshipType, bool]:
        raw = self.cleaned_data["type"]
        type_id, _sep, side = raw.partition(":")
        rel_type = self.type_map.get(int(type_id)) if type_id.isdigit() else None
        if rel_type is None or side not in ("from", "to"):
            raise ValidationError(_("Choose a relationship type."))
        return rel_type, side == "from"


class SpecialDateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in SpecialDateKind if k not in DERIVED_DATE_KINDS],
    )
    label = forms.CharField(label=_("Label"), max_length=100, required=False)
    month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12)
    day = forms.IntegerField(label=_("Day"), min_value=1, max_value=31)
    year = forms.IntegerField(label=_("Year"), required=False, help_text=_("If known."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "date_%s")
        super().__init__(*args, **kwargs)


class StatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- settings ----------------------------------------------------------------------------------


class CustomFieldDefinitionForm(forms.Form):
    key = forms.CharField(
        label=_("Key"), max_length=60, help_text=_("Lower-case letters, digits and underscores; fixed later.")
    )
    label = forms.CharField(label=_("Label"), max_length=120)
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomFieldType.choices)
    applies_to = forms.ChoiceField(label=_("Applies to"), choices=KindScope.choices, initial=KindScope.ANY)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, for choice fields."),
    )
    min_value = forms.DecimalField(label=_("Minimum"), required=False)
    max_value = forms.DecimalField(label=_("Maximum"), required=False)
    max_length = forms.IntegerField(label=_("Maximum length"), required=False, min_value=1)
    pattern = forms.CharField(label=_("Pattern (regular expression)"), max_length=200, required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=300, required=False)
    is_sensitive = forms.BooleanField(label=_("Sensitive"), required=False)
    position = forms.IntegerField(label=_("Position"), required=False, min_value=0, initial=0)

    FROZEN = ("key", "field_type", "applies_to")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            for name in self.FROZEN:
                self.fields[name].disabled = True
                self.fields[name].required = False

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.editing:
            for name in self.FROZEN:
                data.pop(name, None)
        return data


class CategoryTreeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    allow_multiple = forms.BooleanField(
        label=_("A customer may hold several categories of this tree"), required=False, initial=True
    )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ChoiceField(label=_("Under"), required=False)

    def __init__(self, *args: Any, categories: Iterable[Category] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = _blank(_("(top level)")) + [  # type: ignore[attr-defined]
            (str(c.pk), c.path.replace("/", " › ")) for c in categories
        ]


class CategoryRenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=100)


class _CodedCatalogueForm(forms.Form):
    """A catalogue entry with a code that is fixed once created (roles, relationship types)."""

    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("Fixed once created."))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].required = False
        self.editing = editing

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.editing:
            data.pop("code", None)
        return data


class RelationshipTypeForm(_CodedCatalogueForm):
    name = forms.CharField(label=_("Name (from → to)"), max_length=100, help_text=_("e.g. “employs”"))
    inverse_name = forms.CharField(
        label=_("Inverse name (to → from)"), max_length=100, help_text=_("e.g. “employed by”")
    )
    from_kind = forms.ChoiceField(label=_("From side"), choices=KindScope.choices, initial=KindScope.ANY)
    to_kind = forms.ChoiceField(label=_("To side"), choices=KindScope.choices, initial=KindScope.ANY)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class RoleForm(_CodedCatalogueForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TagForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    color = forms.CharField(
        label=_("Colour"), max_length=7, initial="#6b7280", widget=forms.TextInput(attrs={"type": "color"})
    )


class NumberPatternForm(forms.Form):
    pattern = forms.CharField(
        label=_("Customer number pattern"),
        max_length=60,
        help_text=_("Use {year}, {month:02} and exactly one {seq}, e.g. C{year}{seq:06}."),
    )
