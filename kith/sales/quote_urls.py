"""Pages of quotes (inside the ``sales`` namespace)."""

from django.urls import URLPattern, path

from kith.sales.views import quotes as views

urlpatterns: list[URLPattern] = [
    path("", views.quote_list, name="quote_list"),
    path("new/", views.quote_create, name="quote_create"),
    path("products/", views.quote_product_search, name="quote_product_search"),
    path("<int:pk>/", views.quote_detail, name="quote_detail"),
    path("<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("<int:pk>/delete/", views.quote_delete, name="quote_delete"),
    path("<int:pk>/lines/", views.quote_line_add, name="quote_line_add"),
    path("<int:pk>/lines/<int:line>/", views.quote_line_update, name="quote_line_update"),
    path("<int:pk>/lines/<int:line>/remove/", views.quote_line_remove, name="quote_line_remove"),
    path("<int:pk>/lines/<int:line>/move/", views.quote_line_move, name="quote_line_move"),
    path("<int:pk>/send/", views.quote_send, name="quote_send"),
    path("<int:pk>/revise/", views.quote_revise, name="quote_revise"),
    path("<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("<int:pk>/reject/", views.quote_reject, name="quote_reject"),
    path("<int:pk>/pdf/", views.quote_pdf_download, name="quote_pdf"),
]
