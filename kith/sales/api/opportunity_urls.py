"""API routes of opportunities, pipelines, the board and approvals (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
