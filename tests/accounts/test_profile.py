import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_profile_requires_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_profile_shows_and_edits_names_and_email(client, user):
    client.force_login(user)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert 'value="Alice"' in response.content.decode()
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Alicia", "last_name": "Liddell", "email": "alicia@example.com"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Alicia", "Liddell", "alicia@example.com")


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
    [("", "required"), ("nope", "valid email"), ("BOB@example.com", "already exists")],
)
def test_profile_email_errors(client, user, user_factory, email, fragment):
    user_factory(username="bob", email="bob@example.com")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"first_name": "X", "last_name": "", "email": email})
    assert response.status_code == 200
    assert fragment in " ".join(response.context["form"].errors["email"])
    user.refresh_from_db()
    assert user.email == "alice@example.com" and user.first_name == "Alice"


def test_keeping_own_email_in_other_case_is_allowed(client, user):
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"), {"first_name": "A", "last_name": "", "email": "ALICE@example.com"}
    )
    assert response.status_code == 302
