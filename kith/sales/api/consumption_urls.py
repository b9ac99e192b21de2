"""API routes of consumption lines and statistics (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import path

from kith.sales.api import consumption as views

urlpatterns = [
    path("consumption/", views.ConsumptionListView.as_view(), name="consumption"),
    path("consumption/stats/", views.ConsumptionStatsView.as_view(), name="consumption-stats"),
    path("consumption/<int:pk>/", views.ConsumptionLineView.as_view(), name="consumption-line"),
]
