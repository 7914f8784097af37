"""Email addresses attach only through a signed, single-use, expiring link; no answer tells who holds one."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import emails
from tests.livehttp import parallel

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/email/confirm/[^/\s]+/)")


def _link(message) -> str:
    return LINK.search(message.body).group(1)


def _email(user) -> str:
    user.refresh_from_db()
    return user.email


@pytest.fixture
def asked(user, mailoutbox):
    """alice asked for ada@example.com: return the path of the link mailed to it."""
    assert emails.email_change_request(user=user, email="ada@example.com") is True
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    return _link(mailoutbox[0])


def test_link_goes_to_the_new_address_and_attaches_it_on_post_only(client, user, asked, mailoutbox):
    page = client.get(asked)
    assert page.status_code == 200
    body = page.content.decode()
    assert "ada@example.com" in body and 'method="post"' in body
    assert page["Cache-Control"].startswith("max-age=0")
    assert _email(user) == "alice@example.com"  # GET changes nothing (link scanners)
    done = client.post(asked)
    assert done.status_code == 200
    assert "ada@example.com" in done.content.decode()
    assert _email(user) == "ada@example.com"
    # The previous address is told of the change.
    assert mailoutbox[-1].to == ["alice@example.com"]
    assert "ada@example.com" in mailoutbox[-1].body


def test_link_is_single_use(client, user, asked):
    assert client.post(asked).status_code == 200
    for answer in (client.get(asked), client.post(asked)):
        assert answer.status_code == 400
        assert "invalid, has expired or has already been used" in answer.content.decode()
    assert _email(user) == "ada@example.com"


def test_confirming_one_link_voids_the_others(client, user, mailoutbox):
    emails.email_change_request(user=user, email="one@example.com")
    emails.email_change_request(user=user, email="two@example.com")
    first, second = (_link(m) for m in mailoutbox)
    assert client.post(second).status_code == 200
    assert client.post(first).status_code == 400
    assert _email(user) == "two@example.com"


def test_a_password_change_voids_pending_links(client, user, asked):
    user.set_password("An0ther-secret-pass")
    user.save()
    assert client.post(asked).status_code == 400
    assert _email(user) == "alice@example.com"


def test_an_inactive_users_link_is_refused(client, user, asked):
    user.is_active = False
    user.save()
    assert client.post(asked).status_code == 400
    assert _email(user) == "alice@example.com"


def test_expired_link_is_refused_and_a_fresh_one_accepted(client, user, settings, monkeypatch, mailoutbox):
    timeout = settings.EMAIL_CONFIRMATION_TIMEOUT
    assert timeout == 3 * 24 * 60 * 60

    def signed_ago(seconds: int) -> str:
        with monkeypatch.context() as m:
            m.setattr(
                signing.TimestampSigner,
                "timestamp",
                lambda self: signing.b62_encode(int(time.time()) - seconds),
            )
            return emails.email_confirmation_token_make(user=user, email="ada@example.com")

    expired = reverse("accounts:email_confirm", args=[signed_ago(timeout + 5)])
    assert client.get(expired).status_code == 400
    assert client.post(expired).status_code == 400
    assert _email(user) == "alice@example.com"
    fresh = reverse("accounts:email_confirm", args=[signed_ago(timeout - 60)])
    assert client.post(fresh).status_code == 200
    assert _email(user) == "ada@example.com"


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "x" * 3000,
        signing.dumps({"u": 1, "e": "ada@example.com", "s": "0"}, salt="another.salt"),
        signing.dumps(["not", "a", "dict"], salt=emails.TOKEN_SALT),
        signing.dumps({"u": "1", "e": 5, "s": None}, salt=emails.TOKEN_SALT),
        signing.dumps({"u": 1, "e": "eve@example.com", "s": "forged"}, salt=emails.TOKEN_SALT),
    ],
    ids=["garbage", "long", "other-salt", "not-a-dict", "wrong-types", "wrong-state"],
)
def test_bad_links_are_400_and_change_nothing(client, user, token):
    path = reverse("accounts:email_confirm", args=[token])
    for answer in (client.get(path), client.post(path)):
        assert answer.status_code == 400
        assert "Nothing was changed" in answer.content.decode()
    assert _email(user) == "alice@example.com"


def test_tampered_link_is_refused(client, user, asked):
    token = asked.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.post(reverse("accounts:email_confirm", args=[tampered])).status_code == 400
    assert _email(user) == "alice@example.com"


def test_confirmation_post_needs_csrf(user, asked):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(asked).status_code == 403
    assert _email(user) == "alice@example.com"
    page = browser.get(asked)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert browser.post(asked, {"csrfmiddlewaretoken": token}).status_code == 200
    assert _email(user) == "ada@example.com"


def test_taken_address_mails_its_owner_a_notice_and_no_link(user, user_factory, mailoutbox):
    bob = user_factory(username="bob", email="bob@example.com")
    assert emails.email_change_request(user=user, email="BOB@Example.com") is True
    assert [m.to for m in mailoutbox] == [["bob@example.com"]]
    assert "already belongs to your account" in mailoutbox[0].body
    assert not LINK.search(mailoutbox[0].body)
    assert _email(user) == "alice@example.com" and _email(bob) == "bob@example.com"


def test_own_address_again_sends_nothing(user, mailoutbox):
    assert emails.email_change_request(user=user, email="alice@example.com") is False
    assert mailoutbox == []


def test_address_confirmed_by_another_account_meanwhile_is_409(client, user, user_factory, mailoutbox):
    bob = user_factory(username="bob", email="bob@example.com")
    emails.email_change_request(user=user, email="shared@example.com")
    emails.email_change_request(user=bob, email="Shared@example.com")
    alice_link, bob_link = (_link(m) for m in mailoutbox)
    assert client.post(bob_link).status_code == 200
    refused = client.post(alice_link)
    assert refused.status_code == 409
    assert "confirmed by another account" in refused.content.decode()
    assert (_email(user), _email(bob)) == ("alice@example.com", "Shared@example.com")


def test_password_reset_mails_confirmed_addresses_only(client, user, asked, mailoutbox):
    reset = reverse("accounts:password_reset")
    mailoutbox.clear()
    assert client.post(reset, {"email": "ada@example.com"}).status_code == 302
    assert mailoutbox == []  # asked for, not confirmed
    assert client.post(asked).status_code == 200
    mailoutbox.clear()
    assert client.post(reset, {"email": "ada@example.com"}).status_code == 302
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_console_backend_prints_the_link(settings, user, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    emails.email_change_request(user=user, email="ada@example.com")
    assert LINK.search(capsys.readouterr().out)


def _in_thread(call):
    def run():
        try:
            return call()
        finally:
            connection.close()

    return run


def _confirm(token: str) -> str:
    try:
        emails.email_confirm(token=token)
    except Exception as exc:  # the outcome is what is compared
        return getattr(exc, "code", repr(exc))
    return "ok"


def _token(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.django_db(transaction=True)
def test_race_many_accounts_confirm_one_address_at_once(user_factory, mailoutbox, settings):
    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "100/h"  # six links to one inbox, past its usual budget
    users = [user_factory(username=f"racer{n}") for n in range(6)]
    for racer in users:
        emails.email_change_request(user=racer, email="prize@example.com")
    tokens = [_token(_link(m)) for m in mailoutbox]
    outcomes = parallel([_in_thread(lambda t=t: _confirm(t)) for t in tokens])
    assert sorted(outcomes) == ["email_taken"] * 5 + ["ok"]
    holders = get_user_model().objects.filter(email__iexact="prize@example.com")
    assert holders.count() == 1


@pytest.mark.django_db(transaction=True)
def test_race_one_link_followed_many_times_at_once(user_factory, mailoutbox):
    racer = user_factory(username="racer")
    emails.email_change_request(user=racer, email="prize@example.com")
    token = _token(_link(mailoutbox[0]))
    outcomes = parallel([_in_thread(lambda: _confirm(token)) for _ in range(6)])
    assert sorted(outcomes) == ["invalid"] * 5 + ["ok"]
    assert _email(racer) == "prize@example.com"
    # One "your address changed" notice, to the previous address.
    assert [m.to for m in mailoutbox[1:]] == [["racer@example.com"]]


@pytest.mark.parametrize("taken", [False, True])
def test_no_inbox_gets_more_mail_than_its_limit_and_the_answer_never_changes(
    user, django_user_model, mailoutbox, settings, taken
):
    # Confirmation links and "address taken" notices share the per-inbox budget
    # of reset mails: no endpoint can be used to flood an address.
    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "3/h"
    target = "victim@example.com"
    if taken:
        django_user_model.objects.create_user(username="victim", email=target, password="x-long-pass-1")
    answers = [emails.email_change_request(user=user, email=target) for _ in range(6)]
    assert answers == [True] * 6
    assert [m.to for m in mailoutbox] == [[target]] * 3
    assert _email(user) != target


def test_the_api_answers_alike_past_the_mail_limit(user, password, settings, mailoutbox):
    from rest_framework.test import APIClient

    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "1/h"
    client = APIClient()
    # A real login: a new email needs a recent authentication (step-up), which force_authenticate lacks.
    pair = client.post("/api/auth/token/", {"username": user.username, "password": password}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    bodies = [client.patch("/api/me/", {"email": "new@example.com"}, format="json") for _ in range(3)]
    assert [b.status_code for b in bodies] == [202] * 3
    assert bodies[0].json() == bodies[1].json() == bodies[2].json()
    assert len(mailoutbox) == 1
