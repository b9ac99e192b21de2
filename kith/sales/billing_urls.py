"""Pages of invoices, payments and balances (inside the ``sales`` namespace, at /sales/invoices/)."""

from django.urls import URLPattern, path

from kith.sales.views import billing as views

urlpatterns: list[URLPattern] = [
    path("", views.invoice_list, name="invoice_list"),
    path("new/", views.invoice_create, name="invoice_create"),
    path("<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("<int:pk>/payments/", views.payment_create, name="payment_create"),
    path("<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("balances/<str:number>/", views.customer_balance, name="customer_balance"),
]
