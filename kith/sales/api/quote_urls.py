"""API routes of quotes (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import URLPattern, path

from kith.sales.api import quotes as views

urlpatterns: list[URLPattern] = [
    path("quotes/", views.QuoteListView.as_view(), name="quotes"),
    path("quotes/<int:pk>/", views.QuoteDetailView.as_view(), name="quote"),
    path("quotes/<int:pk>/lines/", views.QuoteLinesView.as_view(), name="quote-lines"),
    path("quotes/<int:pk>/lines/<int:line>/", views.QuoteLineDetailView.as_view(), name="quote-line"),
    path("quotes/<int:pk>/send/", views.QuoteSendView.as_view(), name="quote-send"),
    path("quotes/<int:pk>/accept/", views.QuoteAcceptView.as_view(), name="quote-accept"),
    path("quotes/<int:pk>/reject/", views.QuoteRejectView.as_view(), name="quote-reject"),
    path("quotes/<int:pk>/revise/", views.QuoteReviseView.as_view(), name="quote-revise"),
    path("quotes/<int:pk>/pdf/", views.QuotePdfView.as_view(), name="quote-pdf"),
]
