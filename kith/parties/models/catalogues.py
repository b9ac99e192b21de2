"""Admin-defined catalogues: custom fields, classification trees, tags, roles and relationship types."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel
from kith.parties.choices import CustomFieldType, KindScope


class CustomFieldDefinition(TimestampedModel):
    """A typed field admins add to customers. Values live in ``Customer.custom_data[key]``.

    Retiring (``is_active=False``) hides the field from forms but keeps every stored value.
    """

    key = models.SlugField(_("key"), max_length=60, unique=True)
    label = models.CharField(_("label"), max_length=120)
    applies_to = models.CharField(
        _("applies to"), max_length=10, choices=KindScope.choices, default=KindScope.ANY
    )
    field_type = models.CharField(_("type"), max_length=20, choices=CustomFieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    min_value = models.DecimalField(_("minimum"), max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=20, decimal_places=6, null=True, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    pattern = models.CharField(_("pattern (regular expression)"), max_length=200, blank=True)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_sensitive = models.BooleanField(_("sensitive"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label


class CategoryTree(TimestampedModel):
    """A classification scheme, e.g. "Industry" or "Value tier"."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    allow_multiple = models.BooleanField(_("a customer may hold several nodes"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("classification tree")
        verbose_name_plural = _("classification trees")

    def __str__(self) -> str:
        return self.name


class Category(TimestampedModel):
    """A node of a classification tree. ``path`` ("Telecom/Mobile") lets a filter take a whole branch."""

    tree = models.ForeignKey(CategoryTree, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=100)
    path = models.CharField(_("path"), max_length=500, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tree__name", "path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["tree", "path"], name="category_unique_path"),
        ]

    def __str__(self) -> str:
        return f"{self.tree.name} › {self.path.replace('/', ' › ')}"


class Tag(TimestampedModel):
    name = models.CharField(_("name"), max_length=60)
    name_key = models.CharField(max_length=60, unique=True, editable=False)
    color = models.CharField(_("colour"), max_length=7, default="#6b7280")

    class Meta:
        ordering = ["name_key"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.name = self.name.strip()
        self.name_key = self.name.casefold()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class PartyRole(TimestampedModel):
    """A role a customer plays: buyer, payer, ship-to, bill-to, dealer, employee, debtor ..."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer role")
        verbose_name_plural = _("customer roles")

    def __str__(self) -> str:
        return self.name


class RelationshipType(TimestampedModel):
    """Defined once: "parent of" / "child of", "employs" / "employed by", "holds" / "held by" ..."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (from → to)"), max_length=100)
    inverse_name = models.CharField(_("inverse name (to → from)"), max_length=100)
    from_kind = models.CharField(
        _("from side"), max_length=10, choices=KindScope.choices, default=KindScope.ANY
    )
    to_kind = models.CharField(_("to side"), max_length=10, choices=KindScope.choices, default=KindScope.ANY)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("relationship type")
        verbose_name_plural = _("relationship types")

    @property
    def is_symmetric(self) -> bool:
        return self.name.strip().casefold() == self.inverse_name.strip().casefold()

    def __str__(self) -> str:
        return f"{self.name} / {self.inverse_name}"
