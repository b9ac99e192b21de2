from django.urls import include, path

from kith.sales.views import catalogue as views
from kith.sales.views.home import sales_home

app_name = "sales"

urlpatterns = [
    path("", sales_home, name="home"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/import/", include("kith.sales.catalogue_import_urls")),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("price-lists/", views.price_list_list, name="price_list_list"),
    path("price-lists/new/", views.price_list_create, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", views.price_list_edit, name="price_list_edit"),
    path("price-lists/<int:pk>/delete/", views.price_list_delete, name="price_list_delete"),
    path("price-lists/<int:pk>/items/", views.price_list_item_add, name="price_list_item_add"),
    path(
        "price-lists/<int:pk>/items/<int:item>/remove/",
        views.price_list_item_remove,
        name="price_list_item_remove",
    ),
    path("exchange-rates/", views.exchange_rates, name="exchange_rates"),
    path("exchange-rates/<int:pk>/delete/", views.exchange_rate_delete, name="exchange_rate_delete"),
    path("leads/", include("kith.sales.lead_urls")),
    path("opportunities/", include("kith.sales.opportunity_urls")),
    path("quotes/", include("kith.sales.quote_urls")),
    path("forecast/", include("kith.sales.forecast_urls")),
    path("orders/", include("kith.sales.order_urls")),
    path("contracts/", include("kith.sales.contract_urls")),
    path("invoices/", include("kith.sales.billing_urls")),
    path("consumption/", include("kith.sales.consumption_urls")),
    path("exports/", include("kith.sales.export_urls")),
]
