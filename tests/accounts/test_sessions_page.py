"""/accounts/sessions/: list, end one, end all others; owner-scoped."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Session

pytestmark = pytest.mark.django_db

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def _login(user, password, ua, ip="198.51.100.1"):
    c = Client(HTTP_USER_AGENT=ua, REMOTE_ADDR=ip)
    response = c.post(reverse("accounts:login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    return c


def _authenticated(client) -> bool:
    return client.get(reverse("accounts:profile")).status_code == 200


def test_page_lists_sessions_with_current_marked_and_device_summary(user, password):
    mac = _login(user, password, CHROME_MAC, "198.51.100.1")
    _login(user, password, IPHONE, "198.51.100.2")
    response = mac.get(reverse("accounts:sessions"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Chrome 120 on Mac OS X" in body
    assert "Mobile Safari 17 on iOS (iPhone)" in body
    assert "198.51.100.1" in body and "198.51.100.2" in body
    assert body.count('data-current="true"') == 1
    current = Session.objects.get(session_key=mac.cookies[settings.SESSION_COOKIE_NAME].value)
    assert response.context["current_id"] == current.public_id
    # The session key itself (a credential) never appears in the page.
    for row in Session.objects.all():
        assert row.session_key not in body


def test_page_requires_login(client):
    response = client.get(reverse("accounts:sessions"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/sessions/")


def test_end_one_session(user, password):
    mac = _login(user, password, CHROME_MAC)
    phone = _login(user, password, IPHONE)
    phone_row = Session.objects.get(session_key=phone.cookies[settings.SESSION_COOKIE_NAME].value)
    response = mac.post(reverse("accounts:session_revoke", args=[phone_row.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:sessions")
    assert not _authenticated(phone)
    assert _authenticated(mac)


def test_end_current_session_logs_out(user, password):
    mac = _login(user, password, CHROME_MAC)
    row = Session.objects.get(session_key=mac.cookies[settings.SESSION_COOKIE_NAME].value)
    mac.post(reverse("accounts:session_revoke", args=[row.public_id]))
    assert not _authenticated(mac)
    assert not Session.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("public_id", ["other", "nonexistent", "x" * 300, "%00"])
def test_another_users_session_id_is_404_and_nothing_changes(user, user_factory, password, public_id):
    mallory = user_factory(username="mallory")
    mallory_client = _login(mallory, password, CHROME_MAC)
    alice = _login(user, password, IPHONE)
    if public_id == "other":
        public_id = Session.objects.get(user=mallory).public_id
    before = set(Session.objects.values_list("session_key", flat=True))
    response = alice.post(f"/accounts/sessions/{public_id}/revoke/")
    assert response.status_code == 404
    assert set(Session.objects.values_list("session_key", flat=True)) == before
    assert _authenticated(mallory_client) and _authenticated(alice)


def test_revoke_by_get_is_405(user, password):
    c = _login(user, password, CHROME_MAC)
    row = Session.objects.get(user=user)
    assert c.get(reverse("accounts:session_revoke", args=[row.public_id])).status_code == 405
    assert c.get(reverse("accounts:sessions_revoke_others")).status_code == 405
    assert Session.objects.filter(pk=row.pk).exists()


def test_end_all_other_sessions(user, user_factory, password):
    keep = _login(user, password, CHROME_MAC)
    others = [_login(user, password, IPHONE) for _ in range(3)]
    bob = _login(user_factory(username="bob"), password, IPHONE)
    response = keep.post(reverse("accounts:sessions_revoke_others"), follow=True)
    assert "Ended 3 other sessions." in response.content.decode()
    assert _authenticated(keep) and _authenticated(bob)
    assert not any(_authenticated(c) for c in others)
    assert Session.objects.filter(user=user).count() == 1


def test_anonymous_revoke_redirects_to_login(client, user, password):
    _login(user, password, CHROME_MAC)
    row = Session.objects.get(user=user)
    response = client.post(reverse("accounts:session_revoke", args=[row.public_id]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert Session.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("", "Unknown device"),
        ("curl/8.0", "curl 8"),
        ("\x00\xff garbage", "Unknown device"),
        ("a" * 10000, "Unknown device"),
    ],
)
def test_device_summary_handles_odd_user_agents(ua, expected):
    from accounts.devices import device_summary

    assert device_summary(ua) == expected


def test_page_shows_idle_and_absolute_expiry(user, password, clock):
    c = _login(user, password, CHROME_MAC)
    row = Session.objects.get(user=user)
    body = c.get(reverse("accounts:sessions")).content.decode()
    assert row.expire_date.strftime("%Y-%m-%d %H:%M") in body
    absolute = row.created_at + timedelta(seconds=settings.SESSION_ABSOLUTE_LIFETIME)
    assert row.absolute_expiry == absolute
    assert f"at the latest {absolute:%Y-%m-%d %H:%M} UTC" in body
