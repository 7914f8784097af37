"""URLs of the session side, under /accounts/ (paths: docs/contract.md; the second factor's are mfa.urls)."""

from django.urls import path, re_path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("email/confirm/<str:token>/", views.EmailConfirmView.as_view(), name="email_confirm"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password_reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("sessions/", views.sessions_list, name="sessions"),
    path("sessions/revoke-others/", views.sessions_revoke_others, name="sessions_revoke_others"),
    # A session's public id is 32 hex digits; anything else is a plain 404.
    re_path(r"^sessions/(?P<public_id>[0-9a-f]{32})/revoke/$", views.session_revoke, name="session_revoke"),
]
