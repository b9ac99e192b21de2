"""Pages of quotes (inside the ``sales`` namespace)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
