"""Public web-to-lead form pages (no sign-in): ``/f/<key>/``."""

from django.urls import path

from kith.sales.views import web_forms

app_name = "webforms"

urlpatterns = [
    path("<str:key>/", web_forms.public_form, name="form"),
]
