"""Routes of the parties REST API, mounted at /api/v1/."""

from django.urls import path

from kith.parties.api import shares, views

app_name = "parties-api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/bulk/", views.CustomerBulkView.as_view(), name="customer-bulk"),
    path("customers/export/", views.CustomerExportView.as_view(), name="customer-export"),
    path("customers/imports/", views.ImportView.as_view(), name="customer-import"),
    path("customers/imports/preview/", views.ImportPreviewView.as_view(), name="customer-import-preview"),
    path("customers/imports/<int:pk>/undo/", views.ImportUndoView.as_view(), name="customer-import-undo"),
    path("customers/<str:number>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<str:number>/archive/", views.CustomerArchiveView.as_view(), name="customer-archive"),
    path(
        "customers/<str:number>/reactivate/",
        views.CustomerReactivateView.as_view(),
        name="customer-reactivate",
    ),
    path("customers/<str:number>/page/", views.CustomerPageView.as_view(), name="customer-page"),
    path("customers/<str:number>/timeline/", views.CustomerTimelineView.as_view(), name="customer-timeline"),
    path(
        "customers/<str:number>/special-dates/",
        views.SpecialDateListView.as_view(),
        name="customer-special-dates",
    ),
    path(
        "customers/<str:number>/special-dates/<int:pk>/",
        views.SpecialDateDetailView.as_view(),
        name="customer-special-date",
    ),
    path("customers/<str:number>/shares/", shares.CustomerShareListView.as_view(), name="customer-shares"),
    path(
        "customers/<str:number>/shares/<int:pk>/",
        shares.CustomerShareDetailView.as_view(),
        name="customer-share",
    ),
    path("interactions/", views.InteractionListView.as_view(), name="interaction-list"),
    path("interactions/<int:pk>/", views.InteractionDetailView.as_view(), name="interaction-detail"),
    path("relationships/", views.RelationshipListView.as_view(), name="relationship-list"),
    path("relationships/<int:pk>/", views.RelationshipDetailView.as_view(), name="relationship-detail"),
    path("anniversaries/", views.AnniversariesOnView.as_view(), name="anniversaries"),
    path("anniversaries/upcoming/", views.AnniversariesUpcomingView.as_view(), name="anniversaries-upcoming"),
    path("custom-fields/", views.CustomFieldListView.as_view(), name="custom-field-list"),
    path("custom-fields/<int:pk>/", views.CustomFieldDetailView.as_view(), name="custom-field-detail"),
    path("category-trees/", views.CategoryTreeListView.as_view(), name="category-tree-list"),
    path("category-trees/<int:pk>/", views.CategoryTreeDetailView.as_view(), name="category-tree-detail"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("categories/<int:pk>/", views.CategoryDetailView.as_view(), name="category-detail"),
    path("tags/", views.TagListView.as_view(), name="tag-list"),
    path("tags/<int:pk>/", views.TagDetailView.as_view(), name="tag-detail"),
    path("roles/", views.RoleListView.as_view(), name="role-list"),
    path("roles/<int:pk>/", views.RoleDetailView.as_view(), name="role-detail"),
    path("relationship-types/", views.RelationshipTypeListView.as_view(), name="relationship-type-list"),
    path(
        "relationship-types/<int:pk>/",
        views.RelationshipTypeDetailView.as_view(),
        name="relationship-type-detail",
    ),
    path(
        "settings/customer-number-pattern/",
        views.NumberPatternView.as_view(),
        name="customer-number-pattern",
    ),
]
