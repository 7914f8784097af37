"""URLs of second factors on the session side, under /accounts/ beside accounts.urls (docs/contract.md)."""

from django.urls import path, re_path

from mfa import passkeyviews, views

app_name = "mfa"

urlpatterns = [
    path("login/mfa/", views.LoginMfaView.as_view(), name="login_mfa"),
    path("login/mfa/passkey/", passkeyviews.passkey_login_second_step, name="login_mfa_passkey"),
    path("reauthenticate/", views.ReauthenticateView.as_view(), name="reauthenticate"),
    path("reauthenticate/passkey/", passkeyviews.passkey_reauthenticate, name="reauthenticate_passkey"),
    path("mfa/", views.mfa_home, name="mfa"),
    path("mfa/totp/", views.TotpSetupView.as_view(), name="mfa_totp"),
    path("mfa/remove/", views.mfa_remove, name="mfa_remove"),
    path("passkeys/", passkeyviews.passkeys_page, name="passkeys"),
    path("passkeys/login/", passkeyviews.passkey_login, name="passkey_login"),
    # At most 18 digits: any id fits the database's bigint; anything else is a plain 404.
    re_path(
        r"^passkeys/(?P<passkey_id>[0-9]{1,18})/rename/$", passkeyviews.passkey_rename, name="passkey_rename"
    ),
    re_path(
        r"^passkeys/(?P<passkey_id>[0-9]{1,18})/remove/$", passkeyviews.passkey_remove, name="passkey_remove"
    ),
]
