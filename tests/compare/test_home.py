import pytest
from django.conf import settings
from django.urls import reverse

from tests.api.helpers import COOKIE_LOGIN_URL

pytestmark = pytest.mark.django_db


def test_home_anonymous_shows_both_columns_with_login(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="session-column"' in body and 'data-testid="jwt-column"' in body
    assert "Not authenticated by session." in body
    assert f'action="{reverse("accounts:login")}"' in body
    assert 'id="jwt-login"' in body
    assert "/static/css/site.css" in body and "cdn" not in body.lower()


def test_home_shows_session_user(client, user):
    client.force_login(user)
    body = client.get("/").content.decode()
    assert "Authenticated by session as <strong>alice</strong>" in body
    assert f'action="{reverse("accounts:logout")}"' in body


def test_home_jwt_column_uses_jwt_cookie_user(client, user, user_factory, monkeypatch):
    import api.logins

    bob = user_factory(username="bob")
    monkeypatch.setattr(api.logins, "jwt_cookie_user", lambda request: bob)
    client.force_login(user)
    body = client.get("/").content.decode()
    assert "Authenticated by session as <strong>alice</strong>" in body
    assert "Authenticated by JWT cookie as <strong>bob</strong>" in body


def test_home_survives_a_failing_jwt_helper(client, monkeypatch):
    import api.logins

    def boom(request):
        raise RuntimeError("broken")

    monkeypatch.setattr(api.logins, "jwt_cookie_user", boom)
    response = client.get("/")
    assert response.status_code == 200
    assert "Not authenticated by JWT cookie." in response.content.decode()


def test_garbage_jwt_cookie_is_anonymous_not_500(client):
    client.cookies[settings.JWT_ACCESS_COOKIE] = "garbage.garbage.garbage"
    response = client.get("/")
    assert response.status_code == 200


def test_navigation_says_who_and_how(client, user):
    client.force_login(user)
    body = client.get(reverse("accounts:profile")).content.decode()
    assert 'data-testid="whoami"' in body
    assert "badge-session" in body and "alice" in body
    assert f'href="{reverse("accounts:sessions")}"' in body


def test_static_css_is_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("css/site.css")


def test_home_shows_real_jwt_cookie_login(client, user, password):
    response = client.post(
        COOKIE_LOGIN_URL,
        {"username": "alice", "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = client.get("/").content.decode()
    assert "Authenticated by JWT cookie as <strong>alice</strong>" in body
    assert "Not authenticated by session." in body
