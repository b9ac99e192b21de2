"""API routes of leads, assignment rules, web-to-lead forms and follow-up tasks (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
