"""Routes of the audit API, mounted at /api/v1/."""

from django.urls import path

from kith.audit.api import views

app_name = "audit-api"

urlpatterns = [
    path("audit/", views.AuditListView.as_view(), name="entry-list"),
    path("customers/<str:number>/history/", views.CustomerHistoryView.as_view(), name="customer-history"),
]
