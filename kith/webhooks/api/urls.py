"""Routes of the webhooks REST API, mounted at /api/v1/."""

from django.urls import path

from kith.webhooks.api import views

app_name = "webhooks-api"

urlpatterns = [
    path("webhooks/", views.WebhookListView.as_view(), name="list"),
    path("webhooks/event-types/", views.EventTypeListView.as_view(), name="event-types"),
    path("webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="detail"),
    path("webhooks/<int:pk>/deliveries/", views.DeliveryListView.as_view(), name="deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<uuid:delivery>/redeliver/",
        views.DeliveryRedeliverView.as_view(),
        name="redeliver",
    ),
    path("webhooks/<int:pk>/ping/", views.WebhookPingView.as_view(), name="ping"),
    path("webhooks/<int:pk>/enable/", views.WebhookEnableView.as_view(), name="enable"),
    path("webhooks/<int:pk>/rotate-secret/", views.WebhookRotateSecretView.as_view(), name="rotate-secret"),
]
