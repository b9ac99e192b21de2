"""API routes of orders, shipments, contracts, invoices, payments and balances (inside the ``sales-api``
namespace, at /api/v1/)."""

from django.urls import URLPattern, path

from kith.sales.api import billing, contracts, orders

urlpatterns: list[URLPattern] = [
    path("orders/", orders.OrderListView.as_view(), name="orders"),
    path("orders/from-quote/", orders.OrderFromQuoteView.as_view(), name="order-from-quote"),
    path("orders/<int:pk>/", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<int:pk>/confirm/", orders.OrderConfirmView.as_view(), name="order-confirm"),
    path("orders/<int:pk>/cancel/", orders.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<int:pk>/shipments/", orders.OrderShipmentsView.as_view(), name="order-shipments"),
    path("contracts/", contracts.ContractListView.as_view(), name="contracts"),
    path("contracts/<int:pk>/", contracts.ContractDetailView.as_view(), name="contract"),
    path("contracts/<int:pk>/document/", contracts.ContractDocumentView.as_view(), name="contract-document"),
    path("invoices/", billing.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", billing.InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<int:pk>/void/", billing.InvoiceVoidView.as_view(), name="invoice-void"),
    path("invoices/<int:pk>/payments/", billing.InvoicePaymentsView.as_view(), name="invoice-payments"),
    path("payments/", billing.PaymentListView.as_view(), name="payments"),
    path("balances/<str:number>/", billing.BalanceView.as_view(), name="balance"),
]
