"""Second factor on the session side: the login's second step, step-up pages, TOTP setup and removal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.assurance import session_assurance
from accounts.models import Session
from api.models import TokenFamily
from limits.devicecookie import device_cookie_name
from tests.mfahelpers import enrol, totp_code

pytestmark = pytest.mark.django_db

LOGIN_MFA_URL = reverse("mfa:login_mfa")
REAUTH_URL = reverse("mfa:reauthenticate")


def pending_token(response) -> str:
    assert response.status_code == 200
    match = re.search(rb'name="mfa_token" value="([^"]+)"', response.content)
    assert match, response.content[:400]
    return match[1].decode()


def logged_in(client) -> bool:
    return client.get(reverse("accounts:profile")).status_code == 200


def test_password_step_logs_nobody_in_and_the_code_step_does(clock, client, user, login):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    response = login(user, remember_me=True, QUERY_STRING="next=/devices/")
    token = pending_token(response)
    assert b'name="next" value="/devices/"' in response.content
    assert not logged_in(client)
    assert not Session.objects.filter(user=user).exists()
    assert device_cookie_name() not in response.cookies

    done = client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": totp_code(secret), "next": "/devices/"})
    assert done.status_code == 302 and done["Location"] == "/devices/"
    assert logged_in(client)
    proven = session_assurance(client.session)
    assert proven.amr == ("pwd", "otp", "mfa")
    # Remember me survived the second step: a persistent cookie.
    assert done.cookies[settings.SESSION_COOKIE_NAME]["max-age"]
    assert device_cookie_name() in done.cookies
    # The pending token is spent.
    other = Client()
    again = other.post(LOGIN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)})
    assert again.status_code == 400 and b"expired or was already used" in again.content
    assert not logged_in(other)


def test_wrong_malformed_and_expired_codes_are_form_errors(clock, client, user, login):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = pending_token(login(user))
    wrong = f"{(int(totp_code(secret)) + 1) % 1000000:06d}"
    response = client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": wrong})
    assert response.status_code == 200 and b"That code is not valid." in response.content
    assert client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": "12"}).status_code == 400
    assert client.post(LOGIN_MFA_URL, {"mfa_token": "forged", "code": totp_code(secret)}).status_code == 400
    assert client.post(LOGIN_MFA_URL, {}).status_code == 400
    assert client.get(LOGIN_MFA_URL).status_code == 302
    assert not logged_in(client)
    clock.shift(timedelta(seconds=301))
    expired = client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)})
    assert expired.status_code == 400
    assert not logged_in(client)


def test_wrong_codes_lock_like_passwords(clock, client, user, login, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = pending_token(login(user))
    wrong = f"{(int(totp_code(secret)) + 3) % 1000000:06d}"
    for _ in range(3):
        assert client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": wrong}).status_code == 200
    refused = client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert login(user).status_code == 429
    assert not logged_in(client)


def test_recovery_code_login_ends_other_sessions(clock, client, user, login):
    _, codes = enrol(user)
    other = Client()
    other.force_login(user)
    token = pending_token(login(user))
    done = client.post(LOGIN_MFA_URL, {"mfa_token": token, "code": codes[3]})
    assert done.status_code == 302
    assert logged_in(client) and not logged_in(other)
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_password_change_needs_a_recent_authentication(clock, client, user, password):
    client.force_login(user)
    page = reverse("accounts:password_change")
    assert client.get(page).status_code == 200
    clock.shift(timedelta(seconds=301))
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH_URL}?next=%2Faccounts%2Fpassword_change%2F"
    form = client.get(response["Location"])
    assert form.status_code == 200 and b'name="password"' in form.content
    wrong = client.post(REAUTH_URL, {"password": "nope", "next": page})
    assert wrong.status_code == 200 and b"not right" in wrong.content
    assert client.post(REAUTH_URL, {"next": page}).status_code == 400
    key_before = client.session.session_key
    done = client.post(REAUTH_URL, {"password": password, "next": page})
    assert done.status_code == 302 and done["Location"] == page
    assert client.get(page).status_code == 200
    # Upgraded in place under a new key: same login, fresh auth_time.
    assert client.session.session_key != key_before
    assert session_assurance(client.session).is_fresh()


def test_email_change_needs_a_recent_authentication(clock, client, user):
    client.force_login(user)
    clock.shift(timedelta(seconds=301))
    profile = reverse("accounts:profile")
    names = client.post(profile, {"first_name": "Al", "last_name": "", "email": user.email})
    assert names.status_code == 302 and names["Location"] == profile
    changed = client.post(profile, {"first_name": "Al", "last_name": "", "email": "new@example.com"})
    assert changed.status_code == 302 and changed["Location"].startswith(REAUTH_URL)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_totp_setup_shows_qr_and_secret_then_recovery_codes_once(clock, client, user):
    client.force_login(user)
    page = client.get(reverse("mfa:mfa_totp"))
    assert page.status_code == 200
    secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', page.content)[1].decode()
    svg = re.search(rb"<svg.*?</svg>", page.content, re.S)[0]
    # Inline SVG markup: no script, no style attribute or element, so the strict CSP allows it.
    assert b"<script" not in svg and b"style" not in svg and b"<path" in svg
    assert "default-src 'self'" in page["Content-Security-Policy"]
    assert client.post(reverse("mfa:mfa_totp"), {"code": "000"}).status_code == 200
    assert not TOTPDevice.objects.get(user=user).confirmed
    done = client.post(reverse("mfa:mfa_totp"), {"code": totp_code(secret)})
    assert done.status_code == 200
    codes = re.findall(rb"<li><code>([a-z2-7]{8})</code></li>", done.content)
    assert len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    listing = client.get(reverse("mfa:mfa"))
    assert b"10 codes left" in listing.content and secret.encode() not in listing.content
    # A second setup is refused while one is confirmed.
    assert client.get(reverse("mfa:mfa_totp")).status_code == 302


def test_remove_needs_step_up_and_ends_other_logins(clock, client, user, obtain_pair):
    secret, _ = enrol(user)
    client.force_login(user)
    other = Client()
    other.force_login(user)
    pair = obtain_pair(user)
    clock.shift(timedelta(seconds=301))
    stale = client.post(reverse("mfa:mfa_remove"))
    assert stale.status_code == 302 and stale["Location"].startswith(REAUTH_URL)
    assert TOTPDevice.objects.filter(user=user).exists()
    clock.shift(timedelta(seconds=30))
    code = totp_code(secret)
    assert client.post(REAUTH_URL, {"code": "1", "next": "/accounts/mfa/"}).status_code == 200
    assert client.post(REAUTH_URL, {"code": code, "next": "/accounts/mfa/"}).status_code == 302
    assert session_assurance(client.session).amr == ("pwd", "otp", "mfa")
    assert client.post(reverse("mfa:mfa_remove")).status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert logged_in(client) and not logged_in(other)
    assert TokenFamily.objects.get(pk=pair).revoked_at is not None


def test_admin_login_refuses_a_user_with_a_second_factor(client, django_user_model, password):
    staff = django_user_model.objects.create_user(
        username="root", password=password, is_staff=True, is_superuser=True
    )
    enrol(staff)
    response = client.post(reverse("admin:login"), {"username": "root", "password": password})
    assert response.status_code == 200 and b"second factor" in response.content
    assert not Session.objects.filter(user=staff).exists()


def test_reauthenticating_with_a_recovery_code_keeps_this_session_only(clock, client, user):
    _, codes = enrol(user)
    client.force_login(user)
    other = Client()
    other.force_login(user)
    clock.shift(timedelta(seconds=301))
    done = client.post(REAUTH_URL, {"code": codes[0], "next": "/accounts/mfa/"})
    assert done.status_code == 302 and done["Location"] == "/accounts/mfa/"
    assert logged_in(client) and not logged_in(other)
    assert session_assurance(client.session).is_fresh()
    # Spent: the same code is refused the second time.
    again = client.post(REAUTH_URL, {"code": codes[0], "next": "/"})
    assert again.status_code == 200 and b"not valid" in again.content


def test_wrong_passwords_on_the_reauthentication_page_lock_like_logins(
    clock, client, user, password, settings
):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    client.force_login(user)
    clock.shift(timedelta(seconds=301))
    for _ in range(2):
        assert client.post(REAUTH_URL, {"password": "wrong"}).status_code == 200
    refused = client.post(REAUTH_URL, {"password": password})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert not session_assurance(client.session).is_fresh()


def test_the_reauthentication_page_asks_for_a_code_only_from_a_user_who_has_one(
    clock, client, user, password
):
    client.force_login(user)
    clock.shift(timedelta(seconds=301))
    page = client.get(REAUTH_URL)
    assert b'name="password"' in page.content and b'name="code"' not in page.content
    # A code sent anyway is not a way in: the password is required, nothing is renewed.
    refused = client.post(REAUTH_URL, {"code": "123456"})
    assert refused.status_code == 400 and b"Enter your password." in refused.content
    assert not session_assurance(client.session).is_fresh()
    enrol(user)
    assert b'name="code"' in client.get(REAUTH_URL).content
    done = client.post(REAUTH_URL, {"password": password, "next": "/accounts/mfa/"})
    assert done.status_code == 302 and session_assurance(client.session).is_fresh()
