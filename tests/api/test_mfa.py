"""Second factor on the JWT side: TOTP enrolment, the two-step login, amr/auth_time, step-up, removal."""

from __future__ import annotations

import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import Session
from api.models import TokenFamily
from tests.api.helpers import COOKIE_LOGIN_URL, ME_URL, REFRESH_URL, TOKEN_URL, assert_error, csrf_header
from tests.mfahelpers import enrol, totp_code

pytestmark = pytest.mark.django_db(transaction=True)

TOTP_URL = reverse("api:mfa-totp")
CONFIRM_URL = reverse("api:mfa-totp-confirm")
TOKEN_MFA_URL = reverse("api:token-mfa")
COOKIE_MFA_URL = reverse("api:cookie-login-mfa")
REAUTH_URL = reverse("api:reauthenticate")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def first_step(user, password, url=TOKEN_URL, client=None) -> str:
    response = (client or APIClient()).post(
        url, {"username": user.username, "password": password}, format="json"
    )
    body = assert_error(response, 401, "mfa_required")
    assert set(response.cookies) <= {"csrftoken"} and "access" not in body and "refresh" not in body
    return body["mfa_token"]


def test_enrolment_then_login_in_two_steps_with_amr_and_auth_time(clock, user, password, obtain, bearer):
    pair = obtain(user)
    assert claims(pair["access"])["amr"] == ["pwd"]
    assert abs(claims(pair["access"])["auth_time"] - claims(pair["access"])["iat"]) <= 1
    client = bearer(pair["access"])
    created = client.post(TOTP_URL)
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert created.json()["otpauth_uri"].startswith("otpauth://totp/authdemo%3Aalice?secret=" + secret)
    assert TOTPDevice.objects.get(user=user).confirmed is False
    # Unconfirmed: the password alone still logs in.
    assert (
        APIClient().post(TOKEN_URL, {"username": "alice", "password": password}, format="json").status_code
        == 200
    )

    assert_error(client.post(CONFIRM_URL, {"code": "12345"}, format="json"), 400, "malformed_code")
    wrong = f"{(int(totp_code(secret)) + 1) % 1000000:06d}"
    assert_error(client.post(CONFIRM_URL, {"code": wrong}, format="json"), 401, "invalid_code")
    assert TOTPDevice.objects.get(user=user).confirmed is False
    confirmed = client.post(CONFIRM_URL, {"code": totp_code(secret)}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=user).confirmed is True

    # The same code again within its step: refused (replay).
    token = first_step(user, password)
    assert_error(
        APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json"),
        401,
        "invalid_code",
    )
    clock.shift(timedelta(seconds=30))
    families = TokenFamily.objects.count()
    response = APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json")
    assert response.status_code == 200, response.content
    assert TokenFamily.objects.count() == families + 1
    access, refresh = claims(response.json()["access"]), claims(response.json()["refresh"])
    for token_claims in (access, refresh):
        assert token_claims["amr"] == ["pwd", "otp", "mfa"]
        assert isinstance(token_claims["auth_time"], int)
    # A refresh proves nothing new: amr and auth_time carry over.
    clock.shift(timedelta(seconds=60))
    refreshed = APIClient().post(REFRESH_URL, {"refresh": response.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200
    for raw in refreshed.json().values():
        assert claims(raw)["amr"] == ["pwd", "otp", "mfa"]
        assert claims(raw)["auth_time"] == access["auth_time"]


def test_mfa_token_is_single_use_and_a_wrong_code_does_not_spend_it(clock, user, password):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = first_step(user, password)
    wrong = f"{(int(totp_code(secret)) + 1) % 1000000:06d}"
    assert_error(
        APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": wrong}, format="json"),
        401,
        "invalid_code",
    )
    ok = APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json")
    assert ok.status_code == 200
    clock.shift(timedelta(seconds=30))
    again = APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json")
    assert_error(again, 401, "mfa_token_invalid")


def test_mfa_token_expires_and_forged_or_malformed_input_is_refused(clock, user, password, user_factory):
    secret, _ = enrol(user)
    token = first_step(user, password)
    families = TokenFamily.objects.count()
    clock.shift(timedelta(seconds=301))
    assert_error(
        APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json"),
        401,
        "mfa_token_invalid",
    )
    token = first_step(user, password)
    for body in (
        {"mfa_token": token[:-2] + "xx", "code": totp_code(secret)},
        {"mfa_token": "x" * 2000, "code": totp_code(secret)},
        {"mfa_token": "", "code": "123456"},
        {"mfa_token": token},
        {"code": "123456"},
        {"mfa_token": ["a"], "code": {"x": 1}},
    ):
        response = APIClient().post(TOKEN_MFA_URL, body, format="json")
        assert response.status_code in (400, 401), (body, response.content)
        assert_error(response, response.status_code)
    assert_error(
        APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": "abc"}, format="json"),
        400,
        "malformed_code",
    )
    assert TokenFamily.objects.count() == families
    # Still usable after all that bad input.
    ok = APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json")
    assert ok.status_code == 200


def test_wrong_codes_count_toward_the_username_lock_and_spend_the_token(clock, user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = first_step(user, password)
    wrong = f"{(int(totp_code(secret)) + 7) % 1000000:06d}"
    for _ in range(3):
        assert_error(
            APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": wrong}, format="json"),
            401,
            "invalid_code",
        )
    refused = APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json")
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    # The username is locked for passwords too, and the pending login is spent.
    locked = APIClient().post(TOKEN_URL, {"username": "alice", "password": password}, format="json")
    assert_error(locked, 429, "throttled")


def test_recovery_code_logs_in_once_and_ends_every_other_login(clock, user, password, obtain, client):
    other = obtain(user)
    client.force_login(user)
    _, codes = enrol(user)
    token = first_step(user, password)
    response = APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": codes[0].upper()}, format="json")
    assert response.status_code == 200, response.content
    assert claims(response.json()["access"])["amr"] == ["pwd", "otp", "mfa"]
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    assert_error(
        APIClient().post(REFRESH_URL, {"refresh": other["refresh"]}, format="json"), 401, "token_revoked"
    )
    assert not Session.objects.filter(user=user).exists()
    new = APIClient()
    new.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert new.get(ME_URL).status_code == 200
    token = first_step(user, password)
    assert_error(
        APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": codes[0]}, format="json"),
        401,
        "invalid_code",
    )


def test_cookie_login_in_two_steps(clock, user, password):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    client = APIClient(enforce_csrf_checks=True)
    token = first_step(user, password, url=COOKIE_LOGIN_URL, client=client)
    response = client.post(COOKIE_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json")
    assert response.status_code == 200, response.content
    assert "access" not in response.json() and response.json()["user"]["username"] == "alice"
    assert claims(client.cookies[django_settings.JWT_ACCESS_COOKIE].value)["amr"] == ["pwd", "otp", "mfa"]
    assert client.get(ME_URL).json()["auth"] == "jwt-cookie"


def test_step_up_needed_after_reauth_seconds_and_reauthenticate_keeps_the_family(
    clock, user, password, obtain, bearer
):
    pair = obtain(user)
    old_auth_time = claims(pair["access"])["auth_time"]
    clock.shift(timedelta(seconds=301))
    client = bearer(pair["access"])
    assert_error(client.post(TOTP_URL), 401, "reauthentication_required")
    assert_error(
        client.patch(ME_URL, {"email": "new@example.com"}, format="json"), 401, "reauthentication_required"
    )
    assert client.patch(ME_URL, {"first_name": "Al"}, format="json").status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()

    assert_error(client.post(REAUTH_URL, {"password": "wrong"}, format="json"), 401, "invalid_credentials")
    assert_error(client.post(REAUTH_URL, {}, format="json"), 400)
    assert_error(client.post(REAUTH_URL, {"password": password, "code": "123456"}, format="json"), 400)
    response = client.post(REAUTH_URL, {"password": password}, format="json")
    assert response.status_code == 200, response.content
    new_access = claims(response.json()["access"])
    assert new_access["auth_time"] == old_auth_time + 301
    assert new_access["fam"] == claims(pair["access"])["fam"]
    assert new_access["amr"] == ["pwd"]
    # The old access token keeps its old claims: still stale.
    assert_error(client.post(TOTP_URL), 401, "reauthentication_required")
    fresh = bearer(response.json()["access"])
    assert fresh.post(TOTP_URL).status_code == 201
    # The new refresh token rotates; the one it replaced is rotated out.
    assert (
        APIClient().post(REFRESH_URL, {"refresh": response.json()["refresh"]}, format="json").status_code
        == 200
    )


def test_reauthenticate_with_a_code_and_remove_the_factor(clock, user, password, obtain, client):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = first_step(user, password)
    pair = (
        APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": totp_code(secret)}, format="json").json()
    )
    other_token = first_step(user, password)
    clock.shift(timedelta(seconds=30))
    other = (
        APIClient()
        .post(TOKEN_MFA_URL, {"mfa_token": other_token, "code": totp_code(secret)}, format="json")
        .json()
    )
    client.force_login(user)
    clock.shift(timedelta(seconds=400))
    # A refreshed pair keeps the login's auth_time: still too old for a sensitive action.
    pair = APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").json()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert_error(api.delete(TOTP_URL), 401, "reauthentication_required")
    assert_error(api.post(REAUTH_URL, {"code": "12"}, format="json"), 400, "malformed_code")
    response = api.post(REAUTH_URL, {"code": totp_code(secret)}, format="json")
    assert response.status_code == 200, response.content
    assert claims(response.json()["access"])["amr"] == ["pwd", "otp", "mfa"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api.delete(TOTP_URL).status_code == 204
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    # Every other login ended; this one lives on.
    assert api.get(ME_URL).status_code == 200
    assert_error(
        APIClient().post(REFRESH_URL, {"refresh": other["refresh"]}, format="json"), 401, "token_revoked"
    )
    assert not Session.objects.filter(user=user).exists()
    assert_error(api.delete(TOTP_URL), 404, "no_factor")
    # The password alone logs in again.
    assert (
        APIClient().post(TOKEN_URL, {"username": "alice", "password": password}, format="json").status_code
        == 200
    )


def test_second_enrolment_conflicts_and_confirm_without_one_is_refused(clock, user, obtain, bearer):
    client = bearer(obtain(user)["access"])
    assert_error(client.post(CONFIRM_URL, {"code": "123456"}, format="json"), 409, "no_pending_device")
    enrol(user)
    clock.shift(timedelta(seconds=30))
    assert_error(client.post(TOTP_URL), 409, "totp_exists")
    assert TOTPDevice.objects.filter(user=user).count() == 1


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks: PostgreSQL (services mode)")
def test_parallel_second_steps_with_one_code_log_in_once(clock, user, password):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    tokens = [first_step(user, password) for _ in range(4)]
    code, barrier, results = totp_code(secret), threading.Barrier(4), []

    def attempt(token):
        barrier.wait()
        results.append(
            APIClient().post(TOKEN_MFA_URL, {"mfa_token": token, "code": code}, format="json").status_code
        )
        connection.close()

    threads = [threading.Thread(target=attempt, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 401, 401, 401]


def test_session_authenticated_api_calls_read_the_session_assurance(clock, client, user, password):
    assert client.post("/accounts/login/", {"username": "alice", "password": password}).status_code == 302
    api = APIClient(enforce_csrf_checks=True)
    api.cookies = client.cookies
    api.get(ME_URL)  # sets csrftoken
    headers = csrf_header(api)
    created = api.post(TOTP_URL, **headers)
    assert created.status_code == 201, created.content
    clock.shift(timedelta(seconds=301))
    assert_error(api.post(TOTP_URL, **headers), 401, "reauthentication_required")


def test_cookie_login_reauthenticates_into_its_cookies(clock, user, password, cookie_login):
    client = cookie_login(user)
    before = claims(client.cookies[django_settings.JWT_ACCESS_COOKIE].value)
    clock.shift(timedelta(seconds=200))
    assert_error(client.post(REAUTH_URL, {"password": password}, format="json"), 403)
    response = client.post(REAUTH_URL, {"password": password}, format="json", **csrf_header(client))
    assert response.status_code == 200, response.content
    assert "access" not in response.json()
    after = claims(client.cookies[django_settings.JWT_ACCESS_COOKIE].value)
    assert after["auth_time"] == before["auth_time"] + 200 and after["fam"] == before["fam"]


def test_reauthenticate_refuses_a_session_and_an_anonymous_caller(client, user, password):
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user=None)
    assert_error(api.post(REAUTH_URL, {"password": password}, format="json"), 401)


def test_a_password_change_or_deactivation_voids_a_pending_login(clock, user, password):
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = first_step(user, password)
    user.set_password("another long passphrase 42")
    user.save()
    body = {"mfa_token": token, "code": totp_code(secret)}
    assert_error(APIClient().post(TOKEN_MFA_URL, body, format="json"), 401, "mfa_token_invalid")
    token = first_step(user, "another long passphrase 42")
    user.is_active = False
    user.save()
    assert_error(
        APIClient().post(TOKEN_MFA_URL, body | {"mfa_token": token}, format="json"), 401, "mfa_token_invalid"
    )


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks: PostgreSQL (services mode)")
def test_one_pending_login_completes_once_under_parallel_valid_codes(clock, user, password):
    secret, codes = enrol(user)
    clock.shift(timedelta(seconds=30))
    token = first_step(user, password)
    barrier, results = threading.Barrier(3), []

    def attempt(code):
        barrier.wait()
        body = {"mfa_token": token, "code": code}
        results.append(APIClient().post(TOKEN_MFA_URL, body, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in (totp_code(secret), codes[0], codes[1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 401, 401]
    assert TokenFamily.objects.filter(user=user, revoked_at__isnull=True).count() == 1
