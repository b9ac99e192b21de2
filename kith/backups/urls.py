"""Web UI routes of the backups page, mounted at /settings/backups/."""

from django.urls import path

from kith.backups import views

app_name = "backups"

urlpatterns = [
    path("", views.backup_list, name="list"),
    path("start/", views.backup_start, name="start"),
    path("job/", views.backup_job_status, name="job"),
]
