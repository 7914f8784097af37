"""URLs of the comparison pages, at the root (included by authdemo/urls.py)."""

from django.urls import path, re_path

from compare import views

urlpatterns = [
    path("", views.home, name="home"),
    path("compare/costs/", views.costs, name="compare-costs"),
    path("devices/", views.devices, name="devices"),
    path("devices/jwt/<uuid:family_id>/revoke/", views.jwt_login_revoke, name="devices-jwt-revoke"),
    path("devices/jwt/revoke-others/", views.jwt_logins_revoke_others, name="devices-jwt-revoke-others"),
    path(
        "devices/sessions/revoke-others/", views.sessions_revoke_others, name="devices-sessions-revoke-others"
    ),
    # A session's public id is 32 hex digits; anything else is a plain 404.
    re_path(
        r"^devices/sessions/(?P<public_id>[0-9a-f]{32})/revoke/$",
        views.session_revoke,
        name="devices-session-revoke",
    ),
]
