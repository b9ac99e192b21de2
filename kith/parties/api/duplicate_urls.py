"""Routes of the duplicates and merge API, mounted at /api/v1/."""

from django.urls import path

from kith.parties.api import duplicates as views

app_name = "duplicates-api"

urlpatterns = [
    path("duplicates/", views.DuplicateListView.as_view(), name="list"),
    path("duplicates/scan/", views.DuplicateScanView.as_view(), name="scan"),
    path("duplicates/<int:pk>/dismiss/", views.DuplicateDismissView.as_view(), name="dismiss"),
    path("merges/", views.MergeView.as_view(), name="merge"),
]
