"""Instant revocation: logout-all, password change and reset, deactivation, deletion; stateless mode."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import user_revoke_all
from api import revocation
from api.logins import jwt_cookie_user
from api.models import TokenFamily
from api.tokens import AccessToken
from tests.api.helpers import (
    COOKIE_LOGOUT_URL,
    LOGOUT_ALL_URL,
    ME_URL,
    REFRESH_URL,
    assert_error,
    csrf_header,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def logins(user, obtain, cookie_login, client):
    """Three logins of alice (bearer, cookie, session) and one of bob."""

    def make(user_factory):
        bob = user_factory(username="bob")
        client.force_login(user)
        return {
            "bearer": obtain(user),
            "cookie": cookie_login(user),
            "session": client,
            "bob": obtain(bob),
        }

    return make


def _all_dead(result, bearer, api_client):
    assert_error(bearer(result["bearer"]["access"]).get(ME_URL), 401)
    assert_error(api_client.post(REFRESH_URL, {"refresh": result["bearer"]["refresh"]}, format="json"), 401)
    assert_error(result["cookie"].get(ME_URL), 401)
    assert_error(result["session"].get(ME_URL), 401, "not_authenticated")
    # Bob is untouched.
    assert bearer(result["bob"]["access"]).get(ME_URL).status_code == 200


@pytest.mark.parametrize("how", ["bearer", "cookie", "session"])
def test_logout_all_with_any_authentication_ends_everything(how, logins, user_factory, bearer, api_client):
    result = logins(user_factory)
    if how == "bearer":
        response = bearer(result["bearer"]["access"]).post(LOGOUT_ALL_URL)
    elif how == "cookie":
        response = result["cookie"].post(LOGOUT_ALL_URL, **csrf_header(result["cookie"]))
    else:
        response = result["session"].post(LOGOUT_ALL_URL, content_type="application/json")
    assert response.status_code == 204
    _all_dead(result, bearer, api_client)


def test_logout_all_with_cookie_needs_csrf(user, cookie_login):
    client = cookie_login(user)
    assert_error(client.post(LOGOUT_ALL_URL), 403, "csrf_failed")
    assert client.get(ME_URL).status_code == 200


def test_logout_all_anonymous_is_401(api_client):
    assert_error(api_client.post(LOGOUT_ALL_URL), 401, "not_authenticated")


def test_user_revoke_all_kills_access_tokens_on_the_next_request(user, obtain, bearer, cookie_login):
    pair = obtain(user)
    client = bearer(pair["access"])
    cookie_client = cookie_login(user)
    assert client.get(ME_URL).status_code == 200  # warm cache holds "live"
    user_revoke_all(user=user)  # password change / reset / admin action path
    assert_error(client.get(ME_URL), 401, "token_revoked")
    assert_error(cookie_client.get(ME_URL), 401, "token_revoked")
    assert set(TokenFamily.objects.filter(user=user).values_list("revoked_reason", flat=True)) == {
        "revoke_all"
    }


def test_tokens_issued_after_revoke_all_work(user, obtain, bearer):
    obtain(user)
    revocation.tokens_revoke_all(user=user)
    assert bearer(obtain(user)["access"]).get(ME_URL).status_code == 200


def test_password_change_through_the_form_kills_tokens(user, obtain, bearer, client, password):
    pair = obtain(user)
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "n3w-Passw0rd-long",
            "new_password2": "n3w-Passw0rd-long",
        },
    )
    assert response.status_code == 302
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")


def test_deactivation_kills_tokens(user, obtain, bearer):
    pair = obtain(user)
    client = bearer(pair["access"])
    assert client.get(ME_URL).status_code == 200
    user.is_active = False
    user.save()
    assert_error(client.get(ME_URL), 401, "token_revoked")


def test_deactivation_without_signal_still_refused(user, obtain, bearer, django_user_model):
    client = bearer(obtain(user)["access"])
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    assert_error(client.get(ME_URL), 401, "user_inactive")


def test_deletion_kills_tokens(user, obtain, bearer, cookie_login):
    pair = obtain(user)
    cookie_client = cookie_login(user)
    user.delete()
    assert bearer(pair["access"]).get(ME_URL).status_code == 401
    assert cookie_client.get(ME_URL).status_code == 401


def test_revocation_survives_cache_flush(user, obtain, bearer):
    pair = obtain(user)
    revocation.tokens_revoke_all(user=user)
    cache.clear()
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")


def test_stale_live_verdict_is_overwritten_by_revocation(user, obtain, bearer):
    pair = obtain(user)
    client = bearer(pair["access"])
    assert client.get(ME_URL).status_code == 200
    revocation.family_revoke(family_id=AccessToken(pair["access"]).family_id)
    assert_error(client.get(ME_URL), 401, "token_revoked")


def test_stateless_mode_skips_revocation_and_user_query(
    user, obtain, bearer, settings, django_assert_num_queries, cache_round_trips
):
    settings.JWT_STATELESS = True
    pair = obtain(user)
    client = bearer(pair["access"])
    revocation.tokens_revoke_all(user=user)
    cache.clear()
    # Documented trade-off of the benchmark mode: the revoked token still
    # authenticates, with no family lookup and no user query. /api/me/ needs
    # the user's fields: a cold cache loads them (one query) and caches the
    # snapshot; warm, one cache round trip and no query, as on the revocable path.
    with django_assert_num_queries(1):
        response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["auth"] == "jwt-bearer"
    with django_assert_num_queries(0), cache_round_trips() as trips:
        response = client.get(ME_URL)
    assert response.status_code == 200 and response.json()["username"] == "alice"
    assert trips == ["get_many"]


def test_stateless_mode_still_refuses_a_deactivated_or_deleted_user(user, obtain, bearer, settings):
    settings.JWT_STATELESS = True
    client = bearer(obtain(user)["access"])
    assert client.get(ME_URL).status_code == 200  # the snapshot is cached now
    user.first_name = "Alicia"
    user.save()
    assert client.get(ME_URL).json()["first_name"] == "Alicia"  # a change drops the snapshot
    user.is_active = False
    user.save()
    assert_error(client.get(ME_URL), 401, "user_inactive")
    user.delete()
    assert_error(client.get(ME_URL), 401, "user_inactive")


def test_jwt_cookie_user_for_the_home_page(user, cookie_login, rf):
    client = cookie_login(user)
    request = rf.get("/")
    request.COOKIES[settings.JWT_ACCESS_COOKIE] = client.cookies[settings.JWT_ACCESS_COOKIE].value
    assert jwt_cookie_user(request) == user
    request.COOKIES[settings.JWT_ACCESS_COOKIE] = "garbage"
    assert jwt_cookie_user(request) is None
    request.COOKIES.pop(settings.JWT_ACCESS_COOKIE)
    assert jwt_cookie_user(request) is None
    request.COOKIES[settings.JWT_ACCESS_COOKIE] = client.cookies[settings.JWT_ACCESS_COOKIE].value
    revocation.tokens_revoke_all(user=user)
    assert jwt_cookie_user(request) is None


def test_cookie_logout_then_home_shows_no_jwt(user, cookie_login):
    client = cookie_login(user)
    assert client.post(COOKIE_LOGOUT_URL, **csrf_header(client)).status_code == 204
    assert settings.JWT_ACCESS_COOKIE not in {k for k, v in client.cookies.items() if v.value}
    assert APIClient().get(ME_URL).status_code == 401


def test_password_reset_completion_kills_tokens(user, obtain, bearer, client, mailoutbox):
    import re

    pair = obtain(user)
    assert client.post(reverse("accounts:password_reset"), {"email": user.email}).status_code == 302
    link = re.search(r"https?://[^/\s]+(/\S*/reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    response = client.post(
        form_url, {"new_password1": "n3w-Passw0rd-long", "new_password2": "n3w-Passw0rd-long"}
    )
    assert response.status_code == 302
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")


def test_revoke_all_blacklists_live_tokens_outside_a_login_and_leaves_expired_ones_to_the_prune(user):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    now = timezone.now()
    live, expired = (
        OutstandingToken.objects.create(
            user=user, jti=jti, token="x", created_at=now - timedelta(days=2), expires_at=now + delta
        )
        for jti, delta in (("live-jti", timedelta(hours=1)), ("expired-jti", -timedelta(hours=1)))
    )
    revocation.tokens_revoke_all(user=user)
    assert BlacklistedToken.objects.filter(token=live).exists()
    # An expired token is refused anyway; blacklisting it could race jwt_prune deleting it.
    assert not BlacklistedToken.objects.filter(token=expired).exists()
