"""Routes of the data-upkeep API (duplicates, merges, data quality), mounted at /api/v1/."""

from django.urls import path

from kith.parties.api import duplicates as views
from kith.parties.api import quality

app_name = "duplicates-api"

urlpatterns = [
    path("duplicates/", views.DuplicateListView.as_view(), name="list"),
    path("duplicates/scan/", views.DuplicateScanView.as_view(), name="scan"),
    path("duplicates/<int:pk>/dismiss/", views.DuplicateDismissView.as_view(), name="dismiss"),
    path("merges/", views.MergeView.as_view(), name="merge"),
    path("data-quality/", quality.QualityReportView.as_view(), name="quality"),
    path("data-quality/rules/", quality.RuleListView.as_view(), name="quality-rules"),
    path("data-quality/rules/<int:pk>/", quality.RuleDetailView.as_view(), name="quality-rule"),
    path("data-quality/rules/<int:pk>/bulk/", quality.RuleBulkView.as_view(), name="quality-bulk"),
]
