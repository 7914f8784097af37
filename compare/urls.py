"""URLs of the comparison pages and the labs, at the root (included by authdemo/urls.py)."""

from django.urls import path, re_path

from compare import lab_views, stepup_views, views

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
    path("lab/revocation/", lab_views.lab_revocation, name="lab-revocation"),
    path("lab/revocation/run/", lab_views.RevocationRunView.as_view(), name="lab-revocation-run"),
    path(
        "lab/revocation/<str:lab_id>/replay/",
        lab_views.RevocationReplayView.as_view(),
        name="lab-revocation-replay",
    ),
    path("lab/stepup/", stepup_views.lab_stepup, name="lab-stepup"),
    path("lab/stepup/run/", stepup_views.StepupRunView.as_view(), name="lab-stepup-run"),
    path("lab/stepup/<str:lab_id>/copy/", stepup_views.StepupCopyView.as_view(), name="lab-stepup-copy"),
    path("lab/bearer/", lab_views.lab_bearer, name="lab-bearer"),
    path("lab/xss-csrf/", lab_views.lab_xss_csrf, name="lab-xss-csrf"),
    path("lab/xss-csrf/localstorage/", lab_views.lab_localstorage, name="lab-localstorage"),
    path("lab/xss-csrf/attacker/", lab_views.lab_attacker, name="lab-attacker"),
    path("lab/xss-csrf/runs/", lab_views.CsrfRunsView.as_view(), name="lab-csrf-runs"),
    path("lab/xss-csrf/runs/<str:run_id>/", lab_views.CsrfRunView.as_view(), name="lab-csrf-run"),
]
