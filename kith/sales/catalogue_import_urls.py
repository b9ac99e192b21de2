"""/sales/products/import/: the products upload page."""

from django.urls import path

from kith.sales.views.catalogue_import import product_import

urlpatterns = [
    path("", product_import, name="product_import"),
]
