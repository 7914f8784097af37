"""Password change and reset end the right sessions (OWASP ASVS 5.0 V7.4.3)."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Session

pytestmark = pytest.mark.django_db

NEW = "Brand-new-passw0rd"


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _authenticated(client) -> bool:
    return client.get(reverse("accounts:profile")).status_code == 200


def test_password_change_keeps_current_session_and_ends_others(user, password, monkeypatch):
    import api.revocation

    revoked = []
    real = api.revocation.tokens_revoke_all
    monkeypatch.setattr(
        api.revocation,
        "tokens_revoke_all",
        lambda *, user, **kw: revoked.append(user) or real(user=user, **kw),
    )
    me, other1, other2 = _client(user), _client(user), _client(user)
    old_key = me.cookies[settings.SESSION_COOKIE_NAME].value
    response = me.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    assert _authenticated(me)
    # Django cycles the key; the new key is the one row left.
    new_key = me.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert list(Session.objects.filter(user=user).values_list("session_key", flat=True)) == [new_key]
    assert not _authenticated(other1) and not _authenticated(other2)
    assert revoked == [user]


def test_password_change_errors_change_nothing(user, password):
    me, other = _client(user), _client(user)
    for data in (
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
        {"old_password": password, "new_password1": NEW, "new_password2": NEW + "x"},
        {"old_password": password, "new_password1": "123", "new_password2": "123"},
        {},
    ):
        response = me.post(reverse("accounts:password_change"), data)
        assert response.status_code == 200
        assert response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(password)
    assert _authenticated(other)


def test_password_change_requires_login(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def _reset_link(client, email):
    response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    return re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)


def test_password_reset_completion_ends_every_session(client, user, password):
    a, b = _client(user), _client(user)
    link = _reset_link(client, "ALICE@example.com")
    form_url = client.get(link)["Location"]
    response = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_complete")
    assert not _authenticated(a) and not _authenticated(b)
    assert not Session.objects.filter(user=user).exists()
    assert client.post(reverse("accounts:login"), {"username": "alice", "password": NEW}).status_code == 302


def test_password_reset_unknown_email_sends_nothing_and_looks_the_same(client, user):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_reset_bad_link_and_bad_form(client, user):
    response = client.get("/accounts/reset/MQ/not-a-token/")
    assert response.status_code == 200
    assert "invalid" in response.content.decode()
    assert client.post(reverse("accounts:password_reset"), {"email": "not-an-email"}).status_code == 200


def test_password_reset_mismatched_passwords_show_errors(client, user, password):
    a = _client(user)
    form_url = client.get(_reset_link(client, "alice@example.com"))["Location"]
    response = client.post(form_url, {"new_password1": NEW, "new_password2": "other"})
    assert response.status_code == 200 and response.context["form"].errors
    assert _authenticated(a)
    user.refresh_from_db()
    assert user.check_password(password)
