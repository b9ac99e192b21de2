"""Routes of the encryption-key API, mounted at /api/v1/."""

from django.urls import path

from kith.security.api import encryption

app_name = "encryption-api"

urlpatterns = [
    path("encryption/", encryption.EncryptionStatusView.as_view(), name="status"),
    path("encryption/count/", encryption.EncryptionCountView.as_view(), name="count"),
    path("encryption/reencrypt/", encryption.EncryptionReencryptView.as_view(), name="reencrypt"),
    path("encryption/rotate/", encryption.EncryptionRotateView.as_view(), name="rotate"),
]
