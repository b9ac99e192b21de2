"""Pages of opportunities, pipelines, the board and approvals (inside the ``sales`` namespace)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
