"""API routes of quotes (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
