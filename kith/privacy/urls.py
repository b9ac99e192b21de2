"""Web UI routes of privacy tooling."""

from django.urls import path

from kith.privacy import views

app_name = "privacy"

customer = "customers/<str:number>/"

urlpatterns = [
    path(f"{customer}consents/", views.customer_consents, name="customer_consents"),
    path(f"{customer}privacy/export/", views.customer_export, name="customer_export"),
    path(f"{customer}privacy/erase/", views.customer_erase, name="customer_erase"),
    path("privacy/subjects/", views.subjects, name="subjects"),
    path("privacy/leads/<int:pk>/export/", views.lead_export, name="lead_export"),
    path("privacy/leads/<int:pk>/erase/", views.lead_erase, name="lead_erase"),
    path("privacy/purposes/", views.purposes, name="purposes"),
    path("privacy/purposes/<int:pk>/", views.purpose_edit, name="purpose_edit"),
    path("privacy/retention/", views.retention_rules, name="retention_rules"),
    path("privacy/retention/<int:pk>/", views.retention_rule_edit, name="retention_rule_edit"),
    path("privacy/retention/<int:pk>/report/", views.retention_report, name="retention_report"),
]
