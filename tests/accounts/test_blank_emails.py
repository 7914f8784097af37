"""Any number of users have no email; set addresses stay unique case-insensitively (accounts.User)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "Tr1cky-pass-42"


def _blank(*usernames: str) -> list[str]:
    users = get_user_model().objects.filter(username__in=usernames).order_by("username")
    return [u.email for u in users]


def test_shell_create_user_without_email(user):
    model = get_user_model()
    for name in ("b1", "b2", "b3"):
        model.objects.create_user(name, password=PASSWORD)
    model.objects.create_user("b4", email="", password=PASSWORD)
    assert _blank("b1", "b2", "b3", "b4") == ["", "", "", ""]


def test_createsuperuser_noinput_without_email(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    get_user_model().objects.create_user("first", password=PASSWORD)  # a blank email already exists
    call_command("createsuperuser", interactive=False, username="root1", email="")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "")
    call_command("createsuperuser", interactive=False, username="root2")
    assert capsys.readouterr().out.count("Superuser created successfully.") == 2
    assert _blank("root1", "root2") == ["", ""]
    assert get_user_model().objects.filter(username__in=["root1", "root2"], is_superuser=True).count() == 2


def test_admin_add_form_without_email(admin_client):
    get_user_model().objects.create_user("first", password=PASSWORD)
    for name in ("staff1", "staff2"):
        response = admin_client.post(
            "/admin/accounts/user/add/",
            {"username": name, "email": "", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
    assert _blank("staff1", "staff2") == ["", ""]


def test_signups_have_no_email_until_confirmed(client, mailoutbox):
    for name in ("new1", "new2"):
        data = {
            "username": name,
            "email": f"{name}@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
        assert client.post(reverse("accounts:signup"), data).status_code == 302
        client.post(reverse("accounts:logout"))
    assert _blank("new1", "new2") == ["", ""]
    assert len(mailoutbox) == 2


def test_set_addresses_stay_unique_case_insensitively(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user("eve", email="ALICE@example.com", password=PASSWORD)
    assert not get_user_model().objects.filter(username="eve").exists()


def test_admin_refuses_a_taken_address_with_a_clear_error(admin_client, user):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "eve", "email": "Alice@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for field in errors.values() for e in field] == ["email_taken"]
    assert not get_user_model().objects.filter(username="eve").exists()
