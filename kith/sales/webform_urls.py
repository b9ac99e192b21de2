"""Public web-to-lead form pages (no sign-in): ``/f/<key>/``."""

from django.urls import URLPattern

app_name = "webforms"

urlpatterns: list[URLPattern] = []
