"""Routes of the access-control API (access requests, teams, people, roles, visibility defaults), mounted
at /api/v1/. Roles are ``access-roles/``: ``roles/`` is the customers' role catalogue (``kith.parties``)."""

from django.urls import path

from kith.security.api import organisation, views

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
    path("teams/", organisation.TeamListView.as_view(), name="team-list"),
    path("teams/<int:pk>/", organisation.TeamDetailView.as_view(), name="team-detail"),
    path("users/", organisation.UserListView.as_view(), name="user-list"),
    path("users/<int:pk>/", organisation.UserDetailView.as_view(), name="user-detail"),
    path("access-roles/", organisation.RoleListView.as_view(), name="role-list"),
    path("access-roles/<int:pk>/", organisation.RoleDetailView.as_view(), name="role-detail"),
    path(
        "visibility-defaults/",
        organisation.VisibilityDefaultListView.as_view(),
        name="visibility-default-list",
    ),
    path(
        "visibility-defaults/<str:object_type>/",
        organisation.VisibilityDefaultDetailView.as_view(),
        name="visibility-default-detail",
    ),
]
