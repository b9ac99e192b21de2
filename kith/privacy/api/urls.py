"""Routes of the privacy REST API, mounted at /api/v1/."""

from django.urls import path

from kith.privacy.api import views

app_name = "privacy-api"

urlpatterns = [
    path("customers/<str:number>/consents/", views.CustomerConsentsView.as_view(), name="customer-consents"),
    path("customers/<str:number>/export/", views.CustomerExportView.as_view(), name="customer-export"),
    path("customers/<str:number>/erasure/", views.CustomerErasureView.as_view(), name="customer-erasure"),
    path("privacy/subjects/", views.SubjectSearchView.as_view(), name="subjects"),
    path("privacy/leads/<int:pk>/export/", views.LeadExportView.as_view(), name="lead-export"),
    path("privacy/leads/<int:pk>/erasure/", views.LeadErasureView.as_view(), name="lead-erasure"),
]
