"""Pages of contracts (inside the ``sales`` namespace, at /sales/contracts/)."""

from django.urls import URLPattern, path

from kith.sales.views import contracts as views

urlpatterns: list[URLPattern] = [
    path("", views.contract_list, name="contract_list"),
    path("new/", views.contract_create, name="contract_create"),
    path("<int:pk>/", views.contract_detail, name="contract_detail"),
    path("<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("<int:pk>/delete/", views.contract_delete, name="contract_delete"),
    path("<int:pk>/document/", views.contract_document, name="contract_document"),
]
