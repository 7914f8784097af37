"""GET and PATCH /api/me/: the user, and which mechanism authenticated the request."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from authcache.near import near_cache, near_hits
from tests.api.helpers import ME_URL, assert_error, csrf_header

pytestmark = pytest.mark.django_db

FIELDS = {"id", "username", "email", "first_name", "last_name", "auth"}


def test_me_with_bearer(user, obtain, bearer):
    response = bearer(obtain(user)["access"]).get(ME_URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body == {
        "id": user.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "",
        "auth": "jwt-bearer",
    }


def test_me_with_session(user, client):
    client.force_login(user)
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["auth"] == "session"


def test_me_with_cookie(user, cookie_login):
    assert cookie_login(user).get(ME_URL).json()["auth"] == "jwt-cookie"


def test_bearer_wins_over_cookie_and_session(user, user_factory, obtain, cookie_login):
    bob = user_factory(username="bob")
    client = cookie_login(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {obtain(bob)['access']}")
    body = client.get(ME_URL).json()
    assert (body["username"], body["auth"]) == ("bob", "jwt-bearer")


def test_anonymous_is_401_json(api_client):
    response = api_client.get(ME_URL)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_patch_edits_names_at_once_and_email_by_confirmation(user, obtain, bearer, client, mailoutbox):
    api = bearer(obtain(user)["access"])
    response = api.patch(
        ME_URL,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "username": "root",
            "id": 99,
        },
        format="json",
    )
    assert response.status_code == 202
    body = response.json()
    assert body == {
        "detail": body["detail"],
        "code": "email_confirmation_sent",
        "user": {
            "id": user.pk, "username": "alice", "email": "alice@example.com",
            "first_name": "Ada", "last_name": "Lovelace", "auth": "jwt-bearer",
        },
    }  # fmt: skip
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email, user.username) == (
        "Ada",
        "Lovelace",
        "alice@example.com",
        "alice",
    )
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    link = re.search(r"https?://[^/\s]+(/accounts/email/confirm/\S+/)", mailoutbox[0].body).group(1)
    assert api.get(ME_URL).json()["email"] == "alice@example.com"
    assert client.post(link).status_code == 200
    assert api.get(ME_URL).json()["email"] == "ada@example.com"


def test_patch_with_own_email_is_200_and_sends_nothing(user, obtain, bearer, mailoutbox):
    response = bearer(obtain(user)["access"]).patch(
        ME_URL, {"email": "alice@example.com", "first_name": "Al"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "Al"
    assert mailoutbox == []


def test_patch_taken_email_answers_exactly_as_a_free_one(user, user_factory, obtain, bearer, mailoutbox):
    user_factory(username="bob", email="bob@example.com")
    client = bearer(obtain(user)["access"])
    taken = client.patch(ME_URL, {"email": "BOB@example.com"}, format="json")
    free = client.patch(ME_URL, {"email": "free@example.com"}, format="json")
    assert taken.status_code == free.status_code == 202
    assert taken.json() == free.json()
    assert taken.json()["code"] == "email_confirmation_sent"
    user.refresh_from_db()
    assert user.email == "alice@example.com"
    notice, link = mailoutbox
    assert notice.to == ["bob@example.com"] and "/accounts/email/confirm/" not in notice.body
    assert link.to == ["free@example.com"] and "/accounts/email/confirm/" in link.body


def test_patch_taken_email_beside_a_bad_field_shows_that_error_alone(user, user_factory, obtain, bearer):
    # The reproduction: a taken address beside a 151-character first name
    # answered with an "already in use" error that a free address did not get.
    user_factory(username="bob", email="bob@example.com")
    client = bearer(obtain(user)["access"])
    long_name = "x" * 151
    taken = client.patch(ME_URL, {"email": "bob@example.com", "first_name": long_name}, format="json")
    free = client.patch(ME_URL, {"email": "free@example.com", "first_name": long_name}, format="json")
    assert taken.status_code == free.status_code == 400
    assert taken.content == free.content
    assert set(assert_error(taken, 400, "invalid")["errors"]) == {"first_name"}
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("alice@example.com", "Alice")


@pytest.mark.parametrize(
    "payload", [{"email": "not-an-email"}, {"email": ""}, {"first_name": "x" * 500}, {"email": None}]
)
def test_patch_bad_values_are_400(user, obtain, bearer, payload):
    client = bearer(obtain(user)["access"])
    assert_error(client.patch(ME_URL, payload, format="json"), 400, "invalid")


def test_patch_malformed_json_and_wrong_type(user, obtain, bearer):
    client = bearer(obtain(user)["access"])
    assert_error(client.patch(ME_URL, "{", content_type="application/json"), 400, "parse_error")
    assert_error(client.patch(ME_URL, "first_name=x", content_type="text/plain"), 415)


def test_session_patch_needs_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(reverse("accounts:profile")).status_code == 200  # a page with a form sets csrftoken
    assert client.cookies[settings.CSRF_COOKIE_NAME].value
    assert_error(client.patch(ME_URL, {"first_name": "Eve"}, format="json"), 403, "csrf_failed")
    response = client.patch(ME_URL, {"first_name": "Eve"}, format="json", **csrf_header(client))
    assert response.status_code == 200
    assert response.json()["auth"] == "session"


def test_delete_and_post_are_405_json(user, obtain, bearer):
    client = bearer(obtain(user)["access"])
    assert_error(client.delete(ME_URL), 405, "method_not_allowed")
    assert_error(client.post(ME_URL, {}, format="json"), 405, "method_not_allowed")


def test_bearer_get_me_costs_no_query(user, obtain, bearer, django_assert_num_queries):
    client = bearer(obtain(user)["access"])
    client.get(ME_URL)
    # The revocation verdict and the user snapshot both come from the cache.
    with django_assert_num_queries(0):
        response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk, "username": "alice", "email": "alice@example.com",
        "first_name": "Alice", "last_name": "", "auth": "jwt-bearer",
    }  # fmt: skip


def test_cookie_get_me_costs_no_query(user, cookie_login, django_assert_num_queries):
    client = cookie_login(user)
    client.get(ME_URL)
    with django_assert_num_queries(0):
        response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["auth"] == "jwt-cookie"


def test_session_get_me_costs_no_query(user, client, django_assert_num_queries):
    client.force_login(user)
    client.get(ME_URL)
    # Warm: the session data and its user snapshot from the cache.
    with django_assert_num_queries(0):
        response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["auth"] == "session"


def test_cold_cache_reads_the_database_then_warms(user, obtain, bearer, django_assert_num_queries):
    from django.core.cache import cache

    client = bearer(obtain(user)["access"])
    cache.clear()
    with django_assert_num_queries(2):  # the family row + the user, both cached again
        assert client.get(ME_URL).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(ME_URL).status_code == 200


@pytest.mark.parametrize("transport", ["session", "bearer", "cookie"])
def test_a_warm_authenticated_request_costs_at_most_one_cache_round_trip(
    transport, user, client, obtain, bearer, cookie_login, cache_round_trips
):
    if transport == "session":
        client.force_login(user)
    else:
        client = bearer(obtain(user)["access"]) if transport == "bearer" else cookie_login(user)
    client.get(ME_URL)
    with cache_round_trips() as trips:
        assert client.get(ME_URL).status_code == 200
    # One round trip: the credential's entry, the user snapshot and (services
    # mode) the revocation epoch in one get_many (authcache.live).
    assert trips == ["get_many"]
    if near_cache("default") is None:
        return
    # Services mode: reads fill this process's near cache (authcache.near);
    # Redis's messages about the login's own writes may arrive after a fill
    # and refuse it, however late the machine lets them. Once a request is
    # answered in the process, every following one makes no round trip at all.
    for _ in range(10):
        hits = near_hits()
        assert client.get(ME_URL).status_code == 200
        if near_hits() > hits:
            break
    for _ in range(3):
        hits = near_hits()
        with cache_round_trips() as trips:
            assert client.get(ME_URL).status_code == 200
        assert (trips, near_hits() - hits) == ([], 1)


def test_session_authentication_hands_on_the_user_itself_not_its_lazy_proxy(user, user_factory, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject
    from rest_framework.request import Request

    from api.authentication import SessionAuthentication

    def authenticate(lazy_user):
        # As accounts.middleware.AuthenticationMiddleware sets them up.
        django_request = rf.get(ME_URL)
        django_request.session_user = lambda: lazy_user
        django_request.user = SimpleLazyObject(django_request.session_user)
        return SessionAuthentication().authenticate(Request(django_request))

    # The view and the permission checks then read the model instance
    # directly, not through the proxy of request.user.
    got, _ = authenticate(user)
    assert got is user and type(got) is type(user)
    assert authenticate(AnonymousUser()) is None
    assert authenticate(user_factory(username="bob", is_active=False)) is None


def test_session_get_me_sees_the_model_instance(user, client, monkeypatch):
    from api import views

    seen = []
    original = views.MeView._body

    def spy(self, request, db_user):
        seen.append(type(request.user))
        return original(self, request, db_user)

    monkeypatch.setattr(views.MeView, "_body", spy)
    client.force_login(user)
    assert client.get(ME_URL).json()["auth"] == "session"
    assert seen == [type(user)]


def test_many_users_stay_warm_at_once(django_assert_num_queries, settings):
    # More logged-in users than Django's default of 300 cache entries: each
    # needs two (its token family's verdict and its snapshot). A process's
    # cache must hold them all, or warm requests keep reading the database.
    # The periodic revocation-epoch re-read (one query per process per
    # interval, not per user) is pushed past the test, so a slow machine that
    # outlasts the interval does not count it as a per-user query.
    settings.CACHE_EPOCH_SYNC_SECONDS = 3600
    from django.contrib.auth import get_user_model

    from api.logins import token_pair_issue
    from usernames import username_skeleton

    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"many{i}",
            username_key=f"many{i}",
            username_skeleton=username_skeleton(f"many{i}"),
            email=f"many{i}@example.com",
        )
        for i in range(400)
    )
    clients = [APIClient() for _ in users]
    for client, user in zip(clients, users, strict=True):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access}")
        assert client.get(ME_URL).status_code == 200
    with django_assert_num_queries(0):
        for client, user in zip(clients, users, strict=True):
            assert client.get(ME_URL).json()["username"] == user.username
