"""Limits on signup (per IP) and on password-reset mails (per IP and per target address)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"


def _signup(client, n: int, password: str, **extra):
    return client.post(
        "/accounts/signup/",
        {
            "username": f"bulk{n}",
            "email": f"bulk{n}@example.com",
            "password1": password,
            "password2": password,
        },
        **extra,
    )


def test_signups_per_ip_are_limited(client, password, settings):
    settings.SIGNUP_RATELIMIT_IP = "2/h"
    for n in range(2):
        assert _signup(client, n, password).status_code == 302
        client.post("/accounts/logout/")
    response = _signup(client, 9, password)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "<html" in response.content.decode()
    assert not get_user_model().objects.filter(username="bulk9").exists()
    # Another client IP is not affected.
    assert _signup(client, 10, password, REMOTE_ADDR="198.51.100.20").status_code == 302


def test_reset_mails_per_address_are_limited_and_look_the_same(client, user, settings):
    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "2/h"
    settings.PASSWORD_RESET_RATELIMIT_IP = "100/h"
    answers = [client.post(RESET, {"email": "alice@example.com"}) for _ in range(5)]
    assert [a.status_code for a in answers] == [302] * 5
    assert {a["Location"] for a in answers} == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == 2  # the limited requests sent nothing
    # The address's case does not open a new counter.
    assert client.post(RESET, {"email": "ALICE@Example.com"}).status_code == 302
    assert len(mail.outbox) == 2


def test_reset_limit_answers_alike_for_unknown_addresses(client, user, settings):
    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "1/h"
    settings.PASSWORD_RESET_RATELIMIT_IP = "100/h"
    known = [client.post(RESET, {"email": "alice@example.com"}) for _ in range(2)]
    unknown = [client.post(RESET, {"email": "nobody@example.com"}) for _ in range(2)]
    assert [(r.status_code, r["Location"]) for r in known] == [
        (r.status_code, r["Location"]) for r in unknown
    ]
    assert len(mail.outbox) == 1


def test_reset_requests_per_ip_are_limited(client, user, settings):
    settings.PASSWORD_RESET_RATELIMIT_IP = "3/h"
    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "100/h"
    for n in range(3):
        assert client.post(RESET, {"email": f"x{n}@example.com"}).status_code == 302
    response = client.post(RESET, {"email": "alice@example.com"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert mail.outbox == []
