"""URLs of the comparison pages and the labs, at the root (included by authdemo/urls.py)."""

from django.urls import path

from compare import lab_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("lab/revocation/", lab_views.lab_revocation, name="lab-revocation"),
    path("lab/revocation/run/", lab_views.RevocationRunView.as_view(), name="lab-revocation-run"),
    path(
        "lab/revocation/<str:lab_id>/replay/",
        lab_views.RevocationReplayView.as_view(),
        name="lab-revocation-replay",
    ),
    path("lab/bearer/", lab_views.lab_bearer, name="lab-bearer"),
    path("lab/xss-csrf/", lab_views.lab_xss_csrf, name="lab-xss-csrf"),
    path("lab/xss-csrf/localstorage/", lab_views.lab_localstorage, name="lab-localstorage"),
    path("lab/xss-csrf/attacker/", lab_views.lab_attacker, name="lab-attacker"),
    path("lab/xss-csrf/runs/", lab_views.CsrfRunsView.as_view(), name="lab-csrf-runs"),
    path("lab/xss-csrf/runs/<str:run_id>/", lab_views.CsrfRunView.as_view(), name="lab-csrf-run"),
]
