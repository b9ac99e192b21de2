"""Web routes of access requests for sensitive data (mounted at the site root)."""

from django.urls import path

from kith.security import access_views

app_name = "access_requests"

urlpatterns = [
    path("access-requests/", access_views.access_request_list, name="list"),
    path("access-requests/<int:pk>/decide/", access_views.access_request_decide, name="decide"),
    path("access-requests/<int:pk>/withdraw/", access_views.access_request_withdraw, name="withdraw"),
    path("access-requests/<slug:object_type>/<str:key>/new/", access_views.access_request_new, name="new"),
]
