"""One canonical username for the account lookup and the login limiter, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from limits.ratelimit import username_normalize

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"

# (stored username, spelling sent at login, whether it is the same account)
VARIANTS = [
    ("iris", "\u0131ris", False),  # dotless i: UPPER(U+0131) = 'I' on PostgreSQL, but not the same letter
    ("iris", "IRIS", True),
    ("kate", "\u212aate", True),  # Kelvin sign: NFKC makes it "K"
    ("alice", "\uff41\uff4c\uff49\uff43\uff45", True),  # fullwidth "alice"
    ("alice", "\uff21\uff2c\uff29\uff23\uff25", True),  # fullwidth "ALICE"
    ("strasse", "straße", True),  # casefold: ß matches ss
    ("straße", "STRASSE", True),
]


@pytest.mark.parametrize(("stored", "sent", "same"), VARIANTS)
def test_a_spelling_reaches_the_account_under_its_counter_or_no_account(
    user_factory, password, stored, sent, same, rf
):
    account = user_factory(username=stored, email="x@example.com")
    found = authenticate(rf.post("/"), username=sent, password=password)
    if same:
        assert found == account
        # The limiter counts this spelling under the account's own counter.
        assert username_normalize(sent) == username_normalize(stored) == account.username_key
    else:
        assert found is None
        assert username_normalize(sent) != account.username_key


@pytest.mark.parametrize(("stored", "sent", "same"), VARIANTS)
def test_no_spelling_gets_a_fresh_counter_for_an_account(
    user_factory, password, settings, stored, sent, same
):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    user_factory(username=stored, email="x@example.com")
    client = APIClient()
    for _ in range(2):
        client.post(TOKEN_URL, {"username": stored, "password": "wrong"}, format="json")
    response = client.post(TOKEN_URL, {"username": sent, "password": password}, format="json")
    # Same account: locked under the same counter. Another spelling: no account at all.
    assert response.status_code == (429 if same else 401), response.content


@pytest.mark.parametrize(
    ("existing", "confusable"),
    [
        ("alice", "\uff21\uff2c\uff29\uff23\uff25"),
        ("kate", "\u212aate"),
        ("strasse", "Straße"),
        ("iris", "IRIS"),
    ],
)
def test_signup_of_a_confusable_duplicate_is_refused(client, user_factory, password, existing, confusable):
    user_factory(username=existing, email="first@example.com")
    response = client.post(
        "/accounts/signup/",
        {"username": confusable, "email": "second@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert get_user_model().objects.count() == 1


def test_dotless_i_is_another_username(client, user_factory, password):
    user_factory(username="iris", email="first@example.com")
    response = client.post(
        "/accounts/signup/",
        {
            "username": "\u0131ris",
            "email": "second@example.com",
            "password1": password,
            "password2": password,
        },
    )
    # Either refused as a duplicate or a distinct account; never the same account by another name.
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert get_user_model().objects.count() == 1
    else:
        other = get_user_model().objects.get(username="\u0131ris")
        assert other.username_key == "\u0131ris"


def test_the_database_refuses_a_duplicate_canonical_username(user_factory):
    user_factory(username="alice", email="a@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        user_factory(username="\uff21\uff2c\uff29\uff23\uff25", email="b@example.com")


def test_model_clean_refuses_a_confusable_rename(user_factory):
    user_factory(username="alice", email="a@example.com")
    bob = user_factory(username="bob", email="b@example.com")
    bob.username = "Alice"
    with pytest.raises(ValidationError):
        bob.full_clean()


def test_rename_with_update_fields_keeps_the_key(user_factory, password, rf):
    bob = user_factory(username="bob", email="b@example.com")
    bob.username = "robert"
    bob.save(update_fields=["username"])
    bob.refresh_from_db()
    assert bob.username_key == "robert"
    assert authenticate(rf.post("/"), username="Robert", password=password) == bob
