"""The export of the sales lists (inside the ``sales`` namespace, at /sales/exports/)."""

from django.urls import path

from kith.sales.views import exports as views

urlpatterns = [
    path("", views.sales_export, name="export"),
]
