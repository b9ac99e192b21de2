"""Pages of orders (inside the ``sales`` namespace, at /sales/orders/)."""

from django.urls import URLPattern, path

from kith.sales.views import orders as views

urlpatterns: list[URLPattern] = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("from-quote/", views.order_from_quote, name="order_from_quote"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("<int:pk>/lines/", views.order_line_add, name="order_line_add"),
    path("<int:pk>/lines/<int:line>/remove/", views.order_line_remove, name="order_line_remove"),
    path("<int:pk>/confirm/", views.order_confirm, name="order_confirm"),
    path("<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("<int:pk>/ship/", views.order_ship, name="order_ship"),
    path("<int:pk>/invoice/", views.order_invoice, name="order_invoice"),
]
