"""API routes of the forecast, the funnel, the leaderboard and sales targets (inside the ``sales-api``
namespace, at /api/v1/)."""

from django.urls import URLPattern, path

from kith.sales.api import forecast as views

urlpatterns: list[URLPattern] = [
    path("forecast/", views.ForecastView.as_view(), name="forecast"),
    path("funnel/", views.FunnelView.as_view(), name="funnel"),
    path("leaderboard/", views.LeaderboardView.as_view(), name="leaderboard"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/<int:pk>/", views.TargetDetailView.as_view(), name="target"),
]
