import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_profile_requires_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_profile_shows_and_edits_names_and_email(client, user, mailoutbox):
    client.force_login(user)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert 'value="Alice"' in response.content.decode()
    assert 'value="alice@example.com"' in response.content.decode()
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Alicia", "last_name": "Liddell", "email": "alicia@example.com"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    # The names at once; the address once its owner follows the link.
    assert (user.first_name, user.last_name, user.email) == ("Alicia", "Liddell", "alice@example.com")
    assert [m.to for m in mailoutbox] == [["alicia@example.com"]]
    link = re.search(r"https?://[^/\s]+(/accounts/email/confirm/\S+/)", mailoutbox[0].body).group(1)
    assert client.post(link).status_code == 200
    user.refresh_from_db()
    assert user.email == "alicia@example.com"


def _profile_post(client, email: str) -> tuple[int, str, str]:
    response = client.post(reverse("accounts:profile"), {"first_name": "X", "last_name": "", "email": email})
    page = client.get(response["Location"]).content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", page)
    page = re.sub(r'name="csrf-token" content="[^"]+"', "csrf", page)
    return response.status_code, response["Location"], page.replace(email, "EMAIL")


def test_taken_email_answers_exactly_as_a_free_one(client, user, user_factory, mailoutbox):
    user_factory(username="bob", email="bob@example.com")
    client.force_login(user)
    taken = _profile_post(client, "BOB@example.com")
    free = _profile_post(client, "free@example.com")
    assert taken == free
    assert taken[0] == 302 and "We sent a link to EMAIL" in taken[2]
    user.refresh_from_db()
    assert user.email == "alice@example.com" and user.first_name == "X"
    notice, link = mailoutbox
    assert notice.to == ["bob@example.com"] and "already belongs to your account" in notice.body
    assert link.to == ["free@example.com"]


def test_profile_cannot_change_other_fields(client, user):
    client.force_login(user)
    client.post(
        reverse("accounts:profile"),
        {
            "first_name": "A",
            "last_name": "B",
            "email": "alice@example.com",
            "username": "root",
            "is_staff": "on",
        },
    )
    user.refresh_from_db()
    assert user.username == "alice" and not user.is_staff


@pytest.mark.parametrize(
    ("email", "fragment"),
    [("", "required"), ("nope", "valid email")],
)
def test_profile_email_errors(client, user, user_factory, email, fragment):
    user_factory(username="bob", email="bob@example.com")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"first_name": "X", "last_name": "", "email": email})
    assert response.status_code == 200
    assert fragment in " ".join(response.context["form"].errors["email"])
    user.refresh_from_db()
    assert user.email == "alice@example.com" and user.first_name == "Alice"


def test_keeping_own_email_in_other_case_is_allowed(client, user, mailoutbox):
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"), {"first_name": "A", "last_name": "", "email": "ALICE@example.com"}
    )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["ALICE@example.com"]]


def test_keeping_own_email_sends_nothing(client, user, mailoutbox):
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"), {"first_name": "A", "last_name": "", "email": "alice@example.com"}
    )
    assert response.status_code == 302
    assert mailoutbox == []
    assert [str(m) for m in client.get(response["Location"]).context["messages"]] == ["Profile saved."]


def test_account_without_an_address_saves_names_without_one(client, user_factory, mailoutbox):
    nobody = user_factory(username="nobody", email="")
    client.force_login(nobody)
    response = client.post(
        reverse("accounts:profile"), {"first_name": "No", "last_name": "Body", "email": ""}
    )
    assert response.status_code == 302
    nobody.refresh_from_db()
    assert (nobody.first_name, nobody.email) == ("No", "")
    assert mailoutbox == []
