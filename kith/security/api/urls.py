"""Routes of the access-request API, mounted at /api/v1/."""

from django.urls import path

from kith.security.api import views

app_name = "security-api"

urlpatterns = [
    path(
        "customers/<str:number>/access-requests/",
        views.CustomerAccessRequestView.as_view(),
        name="customer-access-requests",
    ),
    path("access-requests/", views.AccessRequestListView.as_view(), name="access-request-list"),
    path(
        "access-requests/<int:pk>/approve/",
        views.AccessRequestApproveView.as_view(),
        name="access-request-approve",
    ),
    path(
        "access-requests/<int:pk>/reject/",
        views.AccessRequestRejectView.as_view(),
        name="access-request-reject",
    ),
]
