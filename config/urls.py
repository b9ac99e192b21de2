from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kith.accounts.urls import auth_urlpatterns

urlpatterns = [
    path("", include("kith.parties.urls")),
    path("", include("kith.audit.urls")),
    path("", include("kith.privacy.urls")),
    *auth_urlpatterns,
    path("accounts/", include("kith.accounts.urls")),
    path("settings/backups/", include("kith.backups.urls")),
    path("jobs/", include("kith.jobs.urls")),
    path("webhooks/", include("kith.webhooks.urls")),
    path("sales/", include("kith.sales.urls")),
    path("f/", include("kith.sales.webform_urls")),
    path("settings/access/", include("kith.security.urls")),
    path("settings/encryption/", include("kith.security.encryption_urls")),
    path("", include("kith.security.access_urls")),
    path("api/v1/", include("kith.parties.api.urls")),
    path("api/v1/", include("kith.audit.api.urls")),
    path("api/v1/", include("kith.privacy.api.urls")),
    path("api/v1/", include("kith.security.api.urls")),
    path("api/v1/", include("kith.security.api.encryption_urls")),
    path("api/v1/", include("kith.jobs.api.urls")),
    path("api/v1/", include("kith.webhooks.api.urls")),
    path("api/v1/", include("kith.sales.api.urls")),
    path("api/v1/", include("kith.parties.api.duplicate_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its script from a URL: no inline script under the Content-Security-Policy
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("django-admin/", admin.site.urls),
]
