"""Account routes, mounted at /accounts/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from kith.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("password/", views.password_change, name="password_change"),
    path("two-factor/", views.two_factor_enrol, name="two_factor_enrol"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/backup-codes/", views.backup_codes_new, name="backup_codes_new"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/stale/", views.stale_users, name="stale_users"),
    path("users/addresses/unlock/", views.address_unlock, name="address_unlock"),
    path("users/<int:pk>/<slug:action>/", views.user_action, name="user_action"),
]

# the sign-in and sign-out routes keep their global names ("login", "logout") used across Kith
auth_urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
