"""The login's second-step hook (ACCOUNTS_LOGIN_SECOND_STEP): accounts asks it, knowing no app behind it."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse

from accounts.checks import login_second_step_check
from tests.mfahelpers import enrol

pytestmark = pytest.mark.django_db

HOOK = f"{__name__}.StaffStep"


class StaffStep:
    """A second step for staff only, answering with a page of its own."""

    def required(self, user) -> bool:
        return user.is_staff

    def begin(self, request, *, user, remember: bool) -> HttpResponse:
        return HttpResponse(f"second step for {user.get_username()} remember={remember}")


def test_the_hook_decides_who_needs_a_second_step_and_renders_it(settings, client, user, user_factory, login):
    settings.ACCOUNTS_LOGIN_SECOND_STEP = HOOK
    staff = user_factory(username="root", is_staff=True)
    pending = login(staff, remember_me=True)
    assert pending.status_code == 200
    assert pending.content == b"second step for root remember=True"
    assert SESSION_KEY not in client.session
    assert login(user).status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_without_a_hook_the_password_logs_in(settings, client, user, login):
    enrol(user)
    settings.ACCOUNTS_LOGIN_SECOND_STEP = None
    assert login(user).status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_the_admin_login_refuses_whoever_needs_a_second_step(settings, client, user_factory, password):
    settings.ACCOUNTS_LOGIN_SECOND_STEP = HOOK
    user_factory(username="root", is_staff=True, is_superuser=True)
    data = {"username": "root", "password": password}
    refused = client.post("/admin/login/?next=/admin/", data)
    assert refused.status_code == 200 and "log in on the site" in refused.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("path", "ids"), [(None, []), ("", []), (HOOK, []), ("nowhere.Step", ["accounts.E025"])]
)
def test_the_system_check_refuses_a_hook_that_does_not_import(settings, path, ids):
    settings.ACCOUNTS_LOGIN_SECOND_STEP = path
    assert [error.id for error in login_second_step_check()] == ids
