"""URLs of the JWT side (paths: docs/contract.md). Included at the root by authdemo/urls.py."""

from django.urls import path, re_path

from api import exceptions, mfaviews, openapi, passkeys, views

app_name = "api"

urlpatterns = [
    # First: every authenticated client asks it, and the resolver tries the patterns in order.
    path("api/me/", views.MeView.as_view(), name="me"),
    path("api/auth/token/", views.TokenObtainView.as_view(), name="token"),
    path("api/auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("api/auth/token/verify/", views.TokenVerifyView.as_view(), name="token-verify"),
    path("api/auth/token/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("api/auth/cookie/login/", views.CookieLoginView.as_view(), name="cookie-login"),
    path("api/auth/cookie/refresh/", views.CookieRefreshView.as_view(), name="cookie-refresh"),
    path("api/auth/cookie/logout/", views.CookieLogoutView.as_view(), name="cookie-logout"),
    path("api/auth/logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("api/auth/token/mfa/", mfaviews.TokenMfaView.as_view(), name="token-mfa"),
    path("api/auth/cookie/login/mfa/", mfaviews.CookieLoginMfaView.as_view(), name="cookie-login-mfa"),
    path("api/auth/mfa/totp/", mfaviews.TotpView.as_view(), name="mfa-totp"),
    path("api/auth/mfa/totp/confirm/", mfaviews.TotpConfirmView.as_view(), name="mfa-totp-confirm"),
    path("api/auth/reauthenticate/", mfaviews.ReauthenticateView.as_view(), name="reauthenticate"),
    path(
        "api/auth/reauthenticate/passkey/options/",
        passkeys.ReauthenticatePasskeyOptionsView.as_view(),
        name="reauthenticate-passkey-options",
    ),
    # Passkeys (WebAuthn)
    path("api/auth/passkeys/", passkeys.PasskeyListView.as_view(), name="passkeys"),
    path(
        "api/auth/passkeys/register/options/",
        passkeys.PasskeyRegisterOptionsView.as_view(),
        name="passkey-register-options",
    ),
    path("api/auth/passkeys/register/", passkeys.PasskeyRegisterView.as_view(), name="passkey-register"),
    # At most 18 digits: any id fits the database's bigint; anything else is the JSON 404.
    re_path(
        r"^api/auth/passkeys/(?P<passkey_id>[0-9]{1,18})/$",
        passkeys.PasskeyDetailView.as_view(),
        name="passkey",
    ),
    path(
        "api/auth/passkeys/login/options/",
        passkeys.PasskeyLoginOptionsView.as_view(),
        name="passkey-login-options",
    ),
    path("api/auth/passkeys/login/", passkeys.PasskeyTokenLoginView.as_view(), name="passkey-login"),
    path(
        "api/auth/cookie/passkeys/login/",
        passkeys.PasskeyCookieLoginView.as_view(),
        name="cookie-passkey-login",
    ),
    path(
        "api/auth/mfa/passkey/options/", passkeys.PasskeyMfaOptionsView.as_view(), name="mfa-passkey-options"
    ),
    path("api/auth/token/mfa/passkey/", passkeys.PasskeyTokenMfaView.as_view(), name="token-mfa-passkey"),
    path(
        "api/auth/cookie/login/mfa/passkey/",
        passkeys.PasskeyCookieMfaView.as_view(),
        name="cookie-login-mfa-passkey",
    ),
    # Keys and OpenAPI
    path(".well-known/jwks.json", views.JwksView.as_view(), name="jwks"),
    path("api/schema/", openapi.SchemaView.as_view(), name="schema"),
    path("api/docs/", openapi.DocsView.as_view(), name="docs"),
    # Last: any other /api/ path is a JSON 404, also under DJANGO_DEBUG=1 (where
    # handler404 is bypassed) and for a POST without the trailing slash (which
    # CommonMiddleware's APPEND_SLASH would turn into a 500 under DEBUG).
    re_path(r"^api/", exceptions.api_not_found, name="not-found"),
]
