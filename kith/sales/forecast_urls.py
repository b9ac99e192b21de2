"""Pages of the forecast, the funnel, the leaderboard and sales targets (inside the ``sales`` namespace)."""

from django.urls import path

from kith.sales.views import forecast as views

urlpatterns = [
    path("", views.forecast, name="forecast"),
    path("funnel/", views.funnel, name="funnel"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("targets/", views.target_list, name="target_list"),
    path("targets/new/", views.target_create, name="target_create"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
]
