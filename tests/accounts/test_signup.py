import re

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


def test_signup_creates_user_logs_in_and_redirects(client, mailoutbox):
    response = client.post(reverse("accounts:signup"), GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    user = get_user_model().objects.get(username="newbie")
    assert client.session[SESSION_KEY] == str(user.pk)
    assert user.sessions.count() == 1
    # The address is attached once its owner follows the link mailed to it.
    assert user.email == ""
    assert [m.to for m in mailoutbox] == [["newbie@example.com"]]
    link = re.search(r"https?://[^/\s]+(/accounts/email/confirm/\S+/)", mailoutbox[0].body).group(1)
    assert client.post(link).status_code == 200
    user.refresh_from_db()
    assert user.email == "newbie@example.com"


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


def _signup_page(client, data) -> tuple[int, str, str]:
    """Return what a signup shows: status, redirect, and the page it leads to (CSRF tokens masked)."""
    response = client.post(reverse("accounts:signup"), data)
    page = client.get(response["Location"]).content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", page)
    page = re.sub(r'name="csrf-token" content="[^"]+"', "csrf", page)
    return response.status_code, response["Location"], page


def test_taken_email_answers_exactly_as_a_free_one(client, user, mailoutbox, clock):
    # The same status, redirect, message and page; only the mail differs,
    # and it goes to the address's owner, who already has it. The clock stands
    # still: the profile page shows the minute of the last login.
    taken = _signup_page(client, {**GOOD, "username": "eve", "email": "Alice@Example.com"})
    client.post(reverse("accounts:logout"))
    free = _signup_page(client, {**GOOD, "username": "eve2", "email": "Free@Example.com"})

    def normalise(shown):
        return tuple(str(part).replace("eve2", "eve").replace("Free@", "Alice@") for part in shown)

    assert normalise(taken) == normalise(free)
    assert "We sent a link to Alice@Example.com" in taken[2]
    assert taken[0] == 302
    eve = get_user_model().objects.get(username="eve")
    assert eve.email == ""  # nothing attached to the newcomer
    notice, link = mailoutbox
    assert notice.to == ["alice@example.com"] and "already belongs to your account" in notice.body
    assert link.to == ["Free@example.com"] and "/accounts/email/confirm/" in link.body


def test_taken_email_beside_another_error_shows_that_error_alone(client, user):
    bad = {**GOOD, "password2": "different-Pass-1"}
    taken = client.post(reverse("accounts:signup"), {**bad, "email": "alice@example.com"})
    free = client.post(reverse("accounts:signup"), {**bad, "email": "free@example.com"})
    assert taken.status_code == free.status_code == 200
    assert taken.context["form"].errors == free.context["form"].errors
    assert list(taken.context["form"].errors) == ["password2"]
