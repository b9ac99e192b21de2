"""Django admin views for support staff; everyday administration has its own pages in the app."""

from django.contrib import admin

from kith.parties import models

admin.site.register(
    [
        models.CustomFieldDefinition,
        models.CategoryTree,
        models.Category,
        models.Tag,
        models.PartyRole,
        models.RelationshipType,
    ]
)


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["customer_number", "display_name", "kind", "status", "owner"]
    search_fields = ["customer_number"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["owner"]
