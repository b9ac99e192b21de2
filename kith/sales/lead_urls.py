"""Pages of leads, assignment rules, web-to-lead forms and follow-up tasks (inside the ``sales`` namespace)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
