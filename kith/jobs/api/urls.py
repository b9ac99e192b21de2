"""Routes of the jobs REST API, mounted at /api/v1/."""

from django.urls import path

from kith.jobs.api import views

app_name = "jobs-api"

urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="list"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="detail"),
    path("jobs/<int:pk>/cancel/", views.JobCancelView.as_view(), name="cancel"),
    path("jobs/<int:pk>/file/", views.JobFileView.as_view(), name="file"),
]
