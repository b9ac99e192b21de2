"""Web routes of the audit trail."""

from django.urls import path

from kith.audit import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.audit_list, name="entry_list"),
    path("audit/export.csv", views.audit_export, name="export"),
    path("audit/access/", views.access_summary, name="access_summary"),
    path("audit/dashboard/", views.dashboard, name="dashboard"),
    path("audit/alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("audit/settings/", views.alert_settings, name="alert_settings"),
    path("customers/<str:number>/history/", views.customer_history, name="customer_history"),
    path(
        "customers/<str:number>/history/<int:seq>/restore/",
        views.customer_restore,
        name="customer_restore",
    ),
]
