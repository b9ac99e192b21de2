"""Routes of the sales REST API, mounted at /api/v1/."""

from django.urls import include, path

from kith.sales.api import (
    consumption_urls,
    forecast_urls,
    lead_urls,
    opportunity_urls,
    order_urls,
    quote_urls,
    views,
)

app_name = "sales-api"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/<int:pk>/", views.ProductDetailView.as_view(), name="product"),
    path("products/<int:pk>/price/", views.ProductPriceView.as_view(), name="product-price"),
    path("price-lists/", views.PriceListListView.as_view(), name="price-lists"),
    path("price-lists/<int:pk>/", views.PriceListDetailView.as_view(), name="price-list"),
    path("exchange-rates/", views.ExchangeRateListView.as_view(), name="exchange-rates"),
    path("exchange-rates/<int:pk>/", views.ExchangeRateDetailView.as_view(), name="exchange-rate"),
    path("", include("kith.sales.api.exports")),
]

urlpatterns += (
    lead_urls.urlpatterns
    + opportunity_urls.urlpatterns
    + quote_urls.urlpatterns
    + forecast_urls.urlpatterns
    + order_urls.urlpatterns
    + consumption_urls.urlpatterns
)
