from django.urls import path

from kith.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("new/", views.webhook_create, name="create"),
    path("<int:pk>/", views.webhook_detail, name="detail"),
    path("<int:pk>/deliveries/", views.webhook_deliveries, name="deliveries"),
    path("<int:pk>/edit/", views.webhook_edit, name="edit"),
    path("<int:pk>/delete/", views.webhook_delete, name="delete"),
    path("<int:pk>/ping/", views.webhook_ping, name="ping"),
    path("<int:pk>/enable/", views.webhook_enable, name="enable"),
    path("<int:pk>/rotate-secret/", views.webhook_rotate_secret, name="rotate_secret"),
    path("<int:pk>/deliveries/<uuid:delivery>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
