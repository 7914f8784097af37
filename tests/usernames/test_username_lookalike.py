"""Look-alike usernames (Unicode TR39): mixed scripts and equal skeletons refused on every creation path."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from usernames import USERNAME_LOOKALIKE, username_scripts_mixed, username_skeleton

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
# Each with one letter swapped for its Cyrillic twin: U+0430, U+0456, U+0435, U+0441.
ALICE_TWINS = ["\u0430lice", "al\u0456ce", "alic\u0435", "ali\u0441e"]
# Whole-script look-alikes: one script each, the same skeleton as a Latin name.
SAME_SKELETON = [
    ("ace", "\u0430\u0441\u0435"),  # all Cyrillic
    ("modern", "rnodern"),  # "rn" looks like "m"
    ("paypal", "paypa1"),
    ("oliver", "0liver"),  # digit zero
]
# Legitimate names: one script, or one of TR39's highly restrictive sets.
ACCEPTED = [
    "\u0438\u0432\u0430\u043d",
    "\u0395\u03bb\u03ad\u03bd\u03b7",
    "\u305f\u306a\u304b",
    "tanaka\u7530\u4e2d",
]


def _signup(client, username: str, password: str):
    return client.post(
        SIGNUP,
        {"username": username, "email": "new@example.com", "password1": password, "password2": password},
    )


def _users() -> list[str]:
    return sorted(get_user_model().objects.values_list("username", flat=True))


def test_the_cyrillic_twins_of_alice_have_her_skeleton_and_mix_scripts():
    for twin in ALICE_TWINS:
        assert twin != "alice"
        assert username_skeleton(twin) == username_skeleton("alice")
        assert username_scripts_mixed(twin)
    assert not username_scripts_mixed("alice") and not username_scripts_mixed("bob_1.x@example")


@pytest.mark.parametrize("twin", ALICE_TWINS)
def test_signup_refuses_a_twin_of_alice(client, user, password, twin):
    response = _signup(client, twin, password)
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()["username"]
    assert [e.code for e in errors] == ["username_mixed_script"]
    assert "A username must use the letters of one script; this one mixes Cyrillic and Latin." in (
        response.content.decode()
    )
    assert _users() == ["alice"]


@pytest.mark.parametrize("twin", ALICE_TWINS)
def test_a_mixed_script_name_is_refused_even_with_no_one_to_imitate(client, password, twin):
    assert _signup(client, twin, password).status_code == 200
    assert _users() == []


@pytest.mark.parametrize(("existing", "lookalike"), SAME_SKELETON)
def test_signup_refuses_a_single_script_name_with_an_existing_skeleton(
    client, user_factory, password, existing, lookalike
):
    user_factory(username=existing)
    response = _signup(client, lookalike, password)
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["username"]] == ["username_lookalike"]
    assert USERNAME_LOOKALIKE in response.content.decode()
    assert _users() == [existing]


def test_a_dotless_i_twin_is_refused_on_every_database(client, user_factory, password):
    user_factory(username="kevin")
    response = _signup(client, "kev\u0131n", password)
    assert response.status_code == 200
    # PostgreSQL's UPPER() makes Django's case-insensitive check see the same
    # name ("unique"); SQLite's does not, and the skeleton catches it.
    codes = [e.code for e in response.context["form"].errors.as_data()["username"]]
    assert codes in (["unique"], ["username_lookalike"])
    assert _users() == ["kevin"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_a_single_script_non_latin_name_is_accepted(client, user, password, name):
    response = _signup(client, name, password)
    assert response.status_code == 302, response.context["form"].errors
    assert _users() == sorted(["alice", name])


def test_the_same_name_in_another_case_is_still_taken_not_a_lookalike(client, user, password):
    response = _signup(client, "ALICE", password)
    assert [e.code for e in response.context["form"].errors.as_data()["username"]] == ["unique"]
    assert _users() == ["alice"]


# --- The other creation paths: admin forms, the shell, createsuperuser -------------


def _admin_add(admin_client, username: str, password: str):
    return admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": username,
            "email": "new@example.com",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )


def test_the_admin_add_form_refuses_lookalikes(admin_client, user, password):
    before = _users()
    for name in [*ALICE_TWINS, "\u0430li\u0441\u0435"]:  # the last: "alice" with three Cyrillic letters
        response = _admin_add(admin_client, name, password)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["username"]
    assert _users() == before
    assert _admin_add(admin_client, "\u0438\u0432\u0430\u043d", password).status_code == 302


def _change_data(admin_client, target) -> dict:
    form = admin_client.get(f"/admin/accounts/user/{target.pk}/change/").context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("password", "groups", "user_permissions", "date_joined", "last_login")
    }
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    return data


def test_the_admin_change_form_refuses_a_rename_to_a_lookalike(admin_client, user, user_factory):
    bob = user_factory(username="bob")
    data = {**_change_data(admin_client, bob), "username": "alic\u0435"}
    response = admin_client.post(f"/admin/accounts/user/{bob.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == [
        "A username must use the letters of one script; this one mixes Cyrillic and Latin."
    ]
    bob.refresh_from_db()
    assert bob.username == "bob"


def test_create_user_in_the_shell_refuses_lookalikes(django_user_model, user_factory, user):
    user_factory(username="ace")
    for name, code in [("\u0430lice", "username_mixed_script"), ("\u0430\u0441\u0435", "username_lookalike")]:
        with pytest.raises(ValidationError) as refused:
            django_user_model.objects.create_user(name, email="x@example.com", password="x")
        assert refused.value.code == code
    assert _users() == ["ace", "alice"]


def test_createsuperuser_refuses_a_lookalike_with_a_clear_error(user, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Root-passw0rd-long")
    with pytest.raises(CommandError, match="mixes Cyrillic and Latin"):
        call_command("createsuperuser", interactive=False, username="\u0430lice", email="root@example.com")
    assert _users() == ["alice"]
    call_command("createsuperuser", interactive=False, username="root", email="root@example.com")
    assert get_user_model().objects.get(username="root").is_superuser


# --- Migration safety and cost ------------------------------------------------------


def test_users_that_already_look_alike_keep_their_names_and_can_be_edited(admin_client, user):
    """Names stored before the rule are not renamed: the migration ranks the later look-alikes."""
    User = get_user_model()
    # A look-alike that joined before the rule (saved as the migration leaves it: rank 1).
    twin = User(username="\u0430lice", email="twin@example.com", username_lookalike_rank=1)
    twin.set_password("x")
    twin.save()
    # What the migration starts from: no skeletons yet (each a placeholder here, the column being unique).
    for pk in User.objects.values_list("pk", flat=True):
        User.objects.filter(pk=pk).update(username_skeleton=f"old-{pk}", username_lookalike_rank=0)
    migration = import_module("accounts.migrations.0007_username_skeleton")
    migration.username_skeleton_fill(django_apps, None)
    rows = User.objects.order_by("pk").values_list("username", "username_skeleton", "username_lookalike_rank")
    assert list(rows) == [
        ("admin", username_skeleton("admin"), 0),
        ("alice", "alice", 0),
        ("\u0430lice", "alice", 1),
    ]
    # Editing either user without touching the name still works.
    for target in (user, twin):
        data = {**_change_data(admin_client, target), "first_name": "Edited"}
        response = admin_client.post(f"/admin/accounts/user/{target.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        target.refresh_from_db()
        assert target.first_name == "Edited"
    assert _users() == ["admin", "alice", "\u0430lice"]


def test_the_check_is_one_indexed_lookup(django_user_model, user_factory, django_assert_num_queries):
    for n in range(20):
        user_factory(username=f"member{n}")
    with django_assert_num_queries(1) as captured:
        django_user_model.objects.username_lookalike_check("newcomer")  # not a look-alike: passes
    assert "username_skeleton" in captured.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, django_user_model._meta.db_table)
    # The unique pair's index leads with the skeleton, so it serves the lookup.
    assert any(
        c["unique"] and c["columns"] == ["username_skeleton", "username_lookalike_rank"]
        for c in constraints.values()
    )


# --- Races: two signups that each saw the name free ---------------------------------


def test_the_database_refuses_a_second_lookalike_that_passed_the_check(django_user_model):
    # Both checks pass before either user exists, as in two concurrent signups.
    django_user_model.objects.username_lookalike_check("ace")
    django_user_model.objects.username_lookalike_check("\u0430\u0441\u0435")
    django_user_model(username="ace", email="a@example.com").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model(username="\u0430\u0441\u0435", email="b@example.com").save()
    assert _users() == ["ace"]


def test_a_signup_that_loses_the_race_gets_the_form_back_not_a_500(client, password, monkeypatch):
    from accounts.forms import SignupForm

    original_is_valid = SignupForm.is_valid
    rivals = []

    def valid_then_a_rival(self):
        valid = original_is_valid(self)
        # The rival's request commits between this form's checks and its insert.
        if valid and not rivals:
            rivals.append(
                get_user_model().objects.create_user("ace", email="rival@example.com", password="x")
            )
        return valid

    monkeypatch.setattr(SignupForm, "is_valid", valid_then_a_rival)
    response = _signup(client, "\u0430\u0441\u0435", password)
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["username"]] == ["username_lookalike"]
    assert _users() == ["ace"]
    assert "_auth_user_id" not in client.session


def test_a_rename_keeps_the_skeleton_in_step(user):
    user.username = "Rnodern"
    user.save(update_fields=["username"])
    user.refresh_from_db()
    assert user.username_skeleton == username_skeleton("modern")
