"""Web routes of the organisation and access-control pages."""

from django.urls import path

from kith.security import access_views, views

app_name = "security"

urlpatterns = [
    path("", views.organisation, name="organisation"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("people/<int:pk>/", views.user_access, name="user_access"),
    path("roles/", views.roles, name="roles"),
    path("roles/new/", views.role_edit, name="role_new"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("visibility/", views.visibility, name="visibility"),
    path("fields/", access_views.field_rules, name="field_rules"),
]
