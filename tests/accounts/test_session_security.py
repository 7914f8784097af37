"""Session security (OWASP ASVS 5.0 V7.2.4 fixation, V3.5 CSRF, V7.4.1 logout, V3.3 cookies)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Session

pytestmark = pytest.mark.django_db

SESSION = settings.SESSION_COOKIE_NAME


def _anonymous(client) -> bool:
    return client.get("/").context["session_user"] is None


def test_session_key_changes_at_login_and_old_key_is_dead(client, user, password):
    # Plant a pre-login session (what a fixation attacker would hand the victim).
    session = client.session
    session["planted"] = "by attacker"
    session.save()
    old_key = session.session_key
    assert Session.objects.filter(session_key=old_key).exists()

    response = client.post(reverse("accounts:login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    new_key = client.cookies[SESSION].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()

    attacker = Client()
    attacker.cookies[SESSION] = old_key
    assert _anonymous(attacker)


def _key_is_dead(old_key: str) -> bool:
    replay = Client()
    replay.cookies[SESSION] = old_key
    return not Session.objects.filter(session_key=old_key).exists() and _anonymous(replay)


def test_logging_in_again_as_the_same_user_gives_a_new_key(client, user, password):
    """Re-authentication gets a new session key too (OWASP ASVS 5.0 V7.2.4); stock Django keeps it."""
    credentials = {"username": "alice", "password": password}
    assert client.post("/accounts/login/", credentials).status_code == 302
    first = client.cookies[SESSION].value
    assert client.post("/accounts/login/", credentials).status_code == 302
    second = client.cookies[SESSION].value
    assert second != first
    assert _key_is_dead(first)
    assert client.get("/accounts/profile/").status_code == 200


def test_admin_login_again_as_the_same_user_gives_a_new_key(client, admin_user, password):
    admin_user.set_password(password)
    admin_user.save()
    credentials = {"username": admin_user.username, "password": password, "next": "/admin/"}
    assert client.post("/admin/login/", credentials).status_code == 302
    first = client.cookies[SESSION].value
    assert client.post("/admin/login/", credentials).status_code == 302
    second = client.cookies[SESSION].value
    assert second != first
    assert _key_is_dead(first)
    assert client.get("/admin/").status_code == 200


def test_signup_login_gives_a_new_key(client, password):
    session = client.session
    session["planted"] = "before signup"
    session.save()
    before = session.session_key
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "email": "newbie@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 302
    assert client.cookies[SESSION].value != before
    assert _key_is_dead(before)


def test_csrf_token_rotates_at_login(user, password):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))
    before = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": password, "csrfmiddlewaretoken": before},
    )
    assert response.status_code == 302
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != before


def _csrf_client(user=None):
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


FORMS = [
    # (path, needs_login, data)
    (reverse("accounts:login"), False, {"username": "alice", "password": "x"}),
    (
        reverse("accounts:signup"),
        False,
        {"username": "n", "email": "n@example.com", "password1": "x", "password2": "x"},
    ),
    (reverse("accounts:password_reset"), False, {"email": "alice@example.com"}),
    (reverse("accounts:logout"), True, {}),
    (reverse("accounts:profile"), True, {"first_name": "A", "last_name": "B", "email": "alice@example.com"}),
    (
        reverse("accounts:password_change"),
        True,
        {"old_password": "x", "new_password1": "y", "new_password2": "y"},
    ),
    (reverse("accounts:sessions_revoke_others"), True, {}),
]


@pytest.mark.parametrize(("path", "needs_login", "data"), FORMS)
@pytest.mark.parametrize("token", [None, "wrong", "a" * 64])
def test_every_form_rejects_missing_or_wrong_csrf(user, path, needs_login, data, token):
    client = _csrf_client(user if needs_login else None)
    client.get(reverse("accounts:login"))  # obtain a csrftoken cookie
    if token is not None:
        data = {**data, "csrfmiddlewaretoken": token}
    sessions_before = Session.objects.count()
    response = client.post(path, data)
    assert response.status_code == 403
    assert Session.objects.count() == sessions_before


def test_session_revoke_rejects_missing_csrf(user):
    client = _csrf_client(user)
    row = Session.objects.get(user=user)
    assert client.post(reverse("accounts:session_revoke", args=[row.public_id])).status_code == 403
    assert Session.objects.filter(pk=row.pk).exists()


def test_password_reset_confirm_rejects_missing_csrf(user, client):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    csrf = Client(enforce_csrf_checks=True)
    url = csrf.get(f"/accounts/reset/{uid}/{token}/")["Location"]
    response = csrf.post(url, {"new_password1": "N3w-passw0rd!x", "new_password2": "N3w-passw0rd!x"})
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")


def test_forms_accept_the_right_csrf_token(user, password):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": password, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logout_replay_of_old_cookie_is_anonymous_and_row_is_gone(client, user, login):
    login(user)
    key = client.cookies[SESSION].value
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies[SESSION] = key
    assert _anonymous(replay)
    assert replay.get(reverse("accounts:profile")).status_code == 302


def test_get_logout_is_405_and_keeps_the_session(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert not _anonymous(client)


def test_session_cookie_flags_with_secure_settings(user, password, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    client.get(reverse("accounts:login"), secure=True)
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": password}, secure=True
    )
    session_cookie = response.cookies[SESSION]
    assert session_cookie["secure"] is True
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    csrf_cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf_cookie["secure"] is True and csrf_cookie["samesite"] == "Lax"


def test_production_settings_make_cookies_secure_httponly_lax():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        " s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_SAMESITE, s.SESSION_ENGINE)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "authdemo.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 60,
    }
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == ["True", "True", "Lax", "True", "Lax", "accounts.sessions"]
