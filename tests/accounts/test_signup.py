import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "newbie",
    "email": "newbie@example.com",
    "password1": "Tr1cky-pass-42",
    "password2": "Tr1cky-pass-42",
}


def test_signup_creates_user_logs_in_and_redirects(client):
    response = client.post(reverse("accounts:signup"), GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "newbie@example.com"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert user.sessions.count() == 1


def test_signup_honours_safe_next_only(client):
    response = client.post("/accounts/signup/?next=/accounts/sessions/", GOOD)
    assert response["Location"] == reverse("accounts:sessions")
    client.post(reverse("accounts:logout"))
    response = client.post(
        reverse("accounts:signup"),
        {**GOOD, "username": "two", "email": "two@example.com", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("accounts:profile")


def test_signup_form_has_the_contract_fields(client):
    body = client.get(reverse("accounts:signup")).content.decode()
    for name in ("username", "email", "password1", "password2", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in body


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"email": ""}, "email", "This field is required."),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": "ALICE@example.com"}, "email", "already exists"),
        ({"username": "ALICE"}, "username", "already exists"),
        ({"username": ""}, "username", "required"),
        ({"username": "bad name!"}, "username", "valid username"),
        ({"password2": "different-Pass-1"}, "password2", "didn"),
        ({"password1": "123", "password2": "123"}, "password2", "too short"),
    ],
)
def test_signup_errors_are_shown_and_nothing_is_created(client, user, changes, field, fragment):
    count = get_user_model().objects.count()
    response = client.post(reverse("accounts:signup"), {**GOOD, **changes})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert fragment in errors
    assert fragment.split()[0] in response.content.decode().replace("&#x27;", "'")
    assert get_user_model().objects.count() == count
    assert SESSION_KEY not in client.session


def test_email_taken_error_has_a_code(client, user):
    response = client.post(reverse("accounts:signup"), {**GOOD, "email": "Alice@Example.com"})
    assert response.context["form"].has_error("email", code="email_taken")
