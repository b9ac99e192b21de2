"""Web UI routes of the parties domain. Customers are addressed by their customer number."""

from django.urls import path

from kith.parties.views import (
    customer_access,
    customer_page,
    customers,
    duplicates,
    exports,
    home,
    imports,
    quality,
    settings,
)

app_name = "parties"

customer = "customers/<str:number>/"

urlpatterns = [
    path("", home.home, name="home"),
    path("anniversaries/", home.anniversaries, name="anniversaries"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/new/", customers.customer_create, name="customer_create"),
    path("customers/export/", exports.customer_export, name="customer_export"),
    path("customers/import/", imports.import_upload, name="import_upload"),
    path("customers/import/<str:upload>/", imports.import_map, name="import_map"),
    path("imports/<int:pk>/undo/", imports.import_undo, name="import_undo"),
    path("customers/duplicates/", duplicates.duplicate_list, name="duplicates"),
    path("customers/duplicates/scan/", duplicates.duplicate_scan, name="duplicate_scan"),
    path("customers/duplicates/<int:pk>/dismiss/", duplicates.duplicate_dismiss, name="duplicate_dismiss"),
    path("customers/quality/", quality.quality_report, name="quality"),
    path("customers/quality/rules/", quality.quality_rule_create, name="quality_rule_create"),
    path("customers/quality/rules/<int:pk>/delete/", quality.quality_rule_delete, name="quality_rule_delete"),
    path("customers/quality/rules/<int:pk>/bulk/", quality.quality_bulk, name="quality_bulk"),
    path("customers/merge/", duplicates.customer_merge, name="customer_merge"),
    path("customers/autocomplete/", customers.customer_autocomplete, name="customer_autocomplete"),
    path(customer, customer_page.customer_detail, name="customer_detail"),
    path(f"{customer}edit/", customers.customer_edit, name="customer_edit"),
    path(f"{customer}access/", customer_access.customer_access, name="customer_access"),
    path(f"{customer}access/<int:pk>/remove/", customer_access.share_remove, name="customer_share_remove"),
    path(f"{customer}delete/", customers.customer_delete, name="customer_delete"),
    path(f"{customer}status/", customer_page.customer_status, name="customer_status"),
    path(f"{customer}timeline/", customer_page.customer_timeline, name="customer_timeline"),
    path(f"{customer}interactions/", customer_page.interaction_create, name="interaction_create"),
    path(f"{customer}relationships/", customer_page.relationship_add, name="relationship_add"),
    path(
        f"{customer}relationships/<int:pk>/remove/",
        customer_page.relationship_remove,
        name="relationship_remove",
    ),
    path(f"{customer}dates/", customer_page.special_date_add, name="special_date_add"),
    path(f"{customer}dates/<int:pk>/remove/", customer_page.special_date_remove, name="special_date_remove"),
    path("settings/", settings.settings_index, name="settings"),
    path("settings/custom-fields/", settings.custom_fields, name="settings_custom_fields"),
    path("settings/custom-fields/<int:pk>/", settings.custom_field_edit, name="settings_custom_field"),
    path(
        "settings/custom-fields/<int:pk>/retire/",
        settings.custom_field_retire,
        name="settings_custom_field_retire",
    ),
    path("settings/classification/", settings.category_trees, name="settings_trees"),
    path("settings/classification/<int:pk>/", settings.category_tree, name="settings_tree"),
    path("settings/categories/<int:pk>/rename/", settings.category_rename, name="settings_category_rename"),
    path("settings/categories/<int:pk>/retire/", settings.category_retire, name="settings_category_retire"),
    path("settings/relationship-types/", settings.relationship_types, name="settings_relationship_types"),
    path(
        "settings/relationship-types/<int:pk>/",
        settings.relationship_type_edit,
        name="settings_relationship_type",
    ),
    path("settings/roles/", settings.roles, name="settings_roles"),
    path("settings/roles/<int:pk>/", settings.role_edit, name="settings_role"),
    path("settings/tags/", settings.tags, name="settings_tags"),
    path("settings/tags/<int:pk>/delete/", settings.tag_delete, name="settings_tag_delete"),
]
