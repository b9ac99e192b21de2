"""Web routes of Settings → Encryption keys, mounted at /settings/encryption/."""

from django.urls import path

from kith.security import encryption_views

app_name = "encryption"

urlpatterns = [
    path("", encryption_views.encryption_keys, name="keys"),
    path("job/", encryption_views.encryption_job, name="job"),
    path("count/", encryption_views.encryption_count, name="count"),
    path("reencrypt/", encryption_views.encryption_reencrypt, name="reencrypt"),
    path("rotate/", encryption_views.encryption_rotate, name="rotate"),
]
