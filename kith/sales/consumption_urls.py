"""Pages of consumption lines and statistics (inside the ``sales`` namespace, at /sales/consumption/)."""

from django.urls import path

from kith.sales.views import consumption as views

urlpatterns = [
    path("", views.consumption_stats, name="consumption_stats"),
    path("add/", views.consumption_add, name="consumption_add"),
    path("<int:pk>/delete/", views.consumption_delete, name="consumption_delete"),
]
urlpatterns += [path("panel/", views.consumption_panel, name="consumption_panel")]
