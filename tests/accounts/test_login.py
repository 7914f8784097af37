import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import Session

pytestmark = pytest.mark.django_db

GENERIC_ERROR = "Please enter a correct username and password"


def test_login_page_renders_form_with_csrf(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("username", "password", "remember_me", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in body


def test_login_success_redirects_to_the_home_page_and_logs_in(client, user, login):
    response = login(user)
    assert response.status_code == 302
    # The comparison page, where the session column now shows the user.
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(user.pk)
    home = client.get(reverse("home")).content.decode()
    assert "Authenticated by session as <strong>alice</strong>" in home


def test_username_is_case_insensitive(client, user, password):
    response = client.post(reverse("accounts:login"), {"username": "ALICE", "password": password})
    assert response.status_code == 302


def test_next_redirect_is_followed_on_site(client, user, password):
    response = client.post(
        "/accounts/login/?next=/accounts/sessions/", {"username": "alice", "password": password}
    )
    assert response["Location"] == reverse("accounts:sessions")


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "http://evil.example/accounts/", "javascript:alert(1)"],
)
def test_next_redirect_refuses_off_site_urls(client, user, password, target):
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": password, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def _errors(response):
    return [str(e) for e in response.context["form"].non_field_errors()]


def test_unknown_user_and_wrong_password_get_the_same_response(client, user):
    wrong = client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong-password"})
    unknown = client.post(reverse("accounts:login"), {"username": "nobody", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 200
    assert _errors(wrong) == _errors(unknown)
    assert len(_errors(wrong)) == 1 and GENERIC_ERROR in _errors(wrong)[0]
    # Usernames are case-insensitive here, so the message does not say otherwise.
    assert "both fields may be case-sensitive" not in _errors(wrong)[0]
    assert SESSION_KEY not in client.session
    assert not Session.objects.filter(user=user).exists()


def test_inactive_user_with_right_password_gets_the_generic_error(client, user, password):
    user.is_active = False
    user.save()
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": password})
    assert response.status_code == 200
    assert _errors(response) == [
        _errors(client.post(reverse("accounts:login"), {"username": "x", "password": "y"}))[0]
    ]
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": ""},
        {"username": "alice"},
        {"password": "x"},
        {"username": "a" * 5000, "password": "x"},
        {"username": "\x00", "password": "\x00"},
        {"username": ["a", "b"], "password": "x"},
    ],
)
def test_malformed_login_posts_get_200_with_errors(client, user, data):
    response = client.post(reverse("accounts:login"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert SESSION_KEY not in client.session


def test_past_the_limit_even_the_right_password_gets_429(client, user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    for _ in range(3):
        response = client.post(reverse("accounts:login"), {"username": "alice", "password": "bad"})
        assert response.status_code == 200
    response = client.post(reverse("accounts:login"), {"username": " Alice", "password": password})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many login attempts" in response.content.decode()
    assert "<html" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_locked_out_unknown_and_real_usernames_get_the_same_429(client, user, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    responses = {}
    for name in ("alice", "ghost"):
        for _ in range(2):
            client.post(reverse("accounts:login"), {"username": name, "password": "bad"})
        responses[name] = client.post(reverse("accounts:login"), {"username": name, "password": "bad"})
    assert responses["alice"].status_code == responses["ghost"].status_code == 429

    # Only the countdown differs (each counter has its own window), and the
    # page's CSRF token, masked afresh on every response.
    def strip(r):
        content = re.sub(rb'name="csrf-token" content="\w+"', b'name="csrf-token" content=""', r.content)
        return re.sub(rb"\d+ (second|minute|hour)s?", b"N units", content)

    assert strip(responses["alice"]) == strip(responses["ghost"])


def test_successful_login_refunds_its_count(client, user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    for _ in range(4):
        response = client.post(reverse("accounts:login"), {"username": "alice", "password": password})
        assert response.status_code == 302
        client.post(reverse("accounts:logout"))


def test_ip_limit_applies_across_usernames(client, user, settings):
    settings.LOGIN_RATELIMIT_IP = "3/m"
    for name in ("a", "b", "c"):
        assert client.post(reverse("accounts:login"), {"username": name, "password": "x"}).status_code == 200
    assert client.post(reverse("accounts:login"), {"username": "d", "password": "x"}).status_code == 429


def test_plain_login_cookie_ends_with_browser(client, user, login):
    login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    row = Session.objects.get(user=user)
    assert row.remember_me is False
    # Server side: at most the absolute plain lifetime (12 h by default).
    assert (row.expire_date - row.created_at).total_seconds() <= settings.SESSION_ABSOLUTE_LIFETIME


def test_remember_me_cookie_lasts_14_days(client, user, login):
    login(user, remember_me=True)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    max_age = int(cookie["max-age"])
    assert 14 * 86400 - 60 <= max_age <= 14 * 86400
    assert Session.objects.get(user=user).remember_me is True
