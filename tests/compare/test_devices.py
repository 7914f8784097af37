"""One device list across both strategies: sessions and JWT logins, revocable, scoped to the owner."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from api.models import TokenFamily

pytestmark = pytest.mark.django_db

COOKIE_LOGIN = "/api/auth/cookie/login/"


def _cookie_login(client, username, password, **extra):
    response = client.post(
        COOKIE_LOGIN, {"username": username, "password": password}, content_type="application/json", **extra
    )
    assert response.status_code == 200
    return client


def _bearer_login(username, password) -> str:
    response = Client().post(
        "/api/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["access"]


def test_anonymous_is_sent_to_login(client):
    for response in (client.get("/devices/"), client.post(f"/devices/jwt/{uuid.uuid4()}/revoke/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_lists_sessions_and_jwt_logins_with_the_current_marked(client, user, password):
    client.post("/accounts/login/", {"username": "alice", "password": password})
    _cookie_login(client, "alice", password, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
    _bearer_login("alice", password)
    body = client.get("/devices/").content.decode()
    mine = TokenFamily.objects.get(user=user, transport="cookie")
    assert body.count("<tr data-family=") == 2
    assert f'<tr data-family="{mine.pk}" class="current" data-current="true">' in body
    assert "HttpOnly cookie" in body and "bearer header" in body
    assert "Firefox 130 on Linux" in body
    assert 'data-testid="device-sessions"' in body and body.count('data-current="true"') == 2


def test_works_for_a_jwt_cookie_user_without_a_session(client, user, password):
    _cookie_login(client, "alice", password)
    response = client.get("/devices/")
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "No active sessions." in response.content.decode()


def test_query_count_is_bounded(client, user, password, django_assert_num_queries):
    client.post("/accounts/login/", {"username": "alice", "password": password})
    for _ in range(3):
        _bearer_login("alice", password)
    client.get("/devices/")
    # Per list one count and one page (the families in one annotated query):
    # not one per login; the user comes from its cached snapshot.
    with django_assert_num_queries(4):
        assert client.get("/devices/").status_code == 200


def test_revoke_one_jwt_login_refuses_its_token_at_once(client, user, password):
    client.force_login(user)
    access = _bearer_login("alice", password)
    family = TokenFamily.objects.get(user=user)
    response = client.post(f"/devices/jwt/{family.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/devices/"
    family.refresh_from_db()
    assert family.revoked_at is not None
    me = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"


def test_another_users_family_is_404_and_untouched(client, user, user_factory, password):
    bob = user_factory(username="bob")
    _bearer_login("bob", password)
    bobs = TokenFamily.objects.get(user=bob)
    client.force_login(user)
    assert client.post(f"/devices/jwt/{bobs.pk}/revoke/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


@pytest.mark.parametrize(
    "path",
    [
        f"/devices/jwt/{uuid.uuid4()}/revoke/",
        "/devices/jwt/not-a-uuid/revoke/",
        "/devices/sessions/zz/revoke/",
    ],
)
def test_bad_ids_are_404(client, user, path):
    client.force_login(user)
    assert client.post(path).status_code == 404


def test_revoking_needs_post_and_csrf(user, password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    _bearer_login("alice", password)
    family = TokenFamily.objects.get(user=user)
    assert client.get(f"/devices/jwt/{family.pk}/revoke/").status_code == 405
    assert client.post(f"/devices/jwt/{family.pk}/revoke/").status_code == 403
    family.refresh_from_db()
    assert family.revoked_at is None


def test_revoke_others_keeps_this_browsers_login(client, user, password):
    _cookie_login(client, "alice", password)
    _bearer_login("alice", password)
    _bearer_login("alice", password)
    mine = TokenFamily.objects.get(user=user, transport="cookie")
    response = client.post("/devices/jwt/revoke-others/", follow=True)
    assert "Revoked 2 other JWT logins." in response.content.decode()
    live = TokenFamily.objects.filter(user=user, revoked_at__isnull=True)
    assert list(live) == [mine]
    assert client.get("/api/me/").json()["auth"] == "jwt-cookie"


def test_revoking_this_browsers_jwt_login_clears_its_cookies(client, user, password):
    _cookie_login(client, "alice", password)
    family = TokenFamily.objects.get(user=user)
    response = client.post(f"/devices/jwt/{family.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies[settings.JWT_ACCESS_COOKIE].value == ""
    assert client.get("/api/me/").status_code == 401


def test_end_a_session_from_the_device_list_as_a_jwt_user(client, user, password):
    laptop = Client()
    laptop.post("/accounts/login/", {"username": "alice", "password": password})
    session = user.sessions.get()
    _cookie_login(client, "alice", password)
    assert client.post(f"/devices/sessions/{session.public_id}/revoke/").status_code == 302
    assert not user.sessions.exists()
    assert laptop.get("/accounts/profile/").status_code == 302


def test_another_users_session_is_404(client, user, user_factory, password):
    bob = user_factory(username="bob")
    Client().post("/accounts/login/", {"username": "bob", "password": password})
    client.force_login(user)
    assert client.post(f"/devices/sessions/{bob.sessions.get().public_id}/revoke/").status_code == 404
    assert bob.sessions.exists()


def test_end_other_sessions_keeps_this_one(client, user, password):
    Client().post("/accounts/login/", {"username": "alice", "password": password})
    client.post("/accounts/login/", {"username": "alice", "password": password})
    response = client.post("/devices/sessions/revoke-others/", follow=True)
    assert "Ended 1 other session." in response.content.decode()
    assert user.sessions.count() == 1


def test_nav_links_the_device_list(client, user, password):
    assert 'href="/devices/"' not in client.get("/accounts/login/").content.decode()
    _cookie_login(client, "alice", password)
    assert 'href="/devices/"' in client.get("/accounts/login/").content.decode()
