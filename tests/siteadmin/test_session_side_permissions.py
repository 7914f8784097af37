"""Each custom admin action of the session side needs the permission of its matching button or view.

Per action and per permission level: view-only staff are not offered the
action and a forged POST of it changes nothing; staff holding the matching
permission and superusers can run it (OWASP ASVS 5.0 V8.2.1, function-level
access control).
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import Session
from tests.siteadmin.helpers import actions_offered, staff_client

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
SESSIONS = "/admin/accounts/session/"


def _logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.fixture
def root(user_factory):
    """A superuser with a live admin session: the target of the attack."""
    superuser = user_factory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    return superuser, client


# --- UserAdmin: "revoke all sessions and tokens" (matches the change page's button) --


def test_view_only_staff_cannot_log_out_a_superuser_with_the_bulk_action(user_factory, root):
    superuser, root_client = root
    clerk = staff_client(user_factory, "clerk", "view_user", app_label="accounts")
    assert "revoke_all_sessions_and_tokens" not in actions_offered(clerk, USERS)

    response = clerk.post(
        USERS, {"action": "revoke_all_sessions_and_tokens", "_selected_action": [superuser.pk]}
    )
    # No action is offered to this user, so Django runs none: the changelist again.
    assert response.status_code == 200
    assert not list(get_messages(response.wsgi_request))
    assert _logged_in(root_client), "the superuser's admin session survives"
    assert Session.objects.filter(user=superuser).count() == 1


def test_view_only_staff_get_403_from_the_matching_button_too(user_factory, root):
    superuser, root_client = root
    clerk = staff_client(user_factory, "clerk", "view_user", app_label="accounts")
    assert clerk.post(f"{USERS}{superuser.pk}/revoke-all/").status_code == 403
    assert _logged_in(root_client)


def test_change_staff_can_run_the_bulk_action(user_factory, root):
    superuser, root_client = root
    operator = staff_client(user_factory, "operator", "view_user", "change_user", app_label="accounts")
    assert "revoke_all_sessions_and_tokens" in actions_offered(operator, USERS)
    response = operator.post(
        USERS, {"action": "revoke_all_sessions_and_tokens", "_selected_action": [superuser.pk]}
    )
    assert response.status_code == 302
    assert not _logged_in(root_client)
    assert not Session.objects.filter(user=superuser).exists()
    assert _logged_in(operator)


def test_superuser_can_run_the_bulk_action(user_factory, root):
    _, root_client = root
    victim = user_factory(username="bob")
    victim_client = Client()
    victim_client.force_login(victim)
    assert "revoke_all_sessions_and_tokens" in actions_offered(root_client, USERS)
    response = root_client.post(
        USERS, {"action": "revoke_all_sessions_and_tokens", "_selected_action": [victim.pk]}
    )
    assert response.status_code == 302
    assert not Session.objects.filter(user=victim).exists()
    assert _logged_in(root_client)


def test_the_bulk_action_asks_the_same_per_user_question_as_the_button(user_factory, root, monkeypatch):
    """An admin that refuses a change of one user refuses that user's revocation by both paths."""
    from siteadmin.users import UserAdmin

    superuser, root_client = root
    operator = staff_client(user_factory, "operator", "view_user", "change_user", app_label="accounts")

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_superuser

    monkeypatch.setattr(UserAdmin, "has_change_permission", has_change_permission)
    assert operator.post(f"{USERS}{superuser.pk}/revoke-all/").status_code == 403
    response = operator.post(
        USERS, {"action": "revoke_all_sessions_and_tokens", "_selected_action": [superuser.pk]}
    )
    assert response.status_code == 403
    assert _logged_in(root_client)


# --- SessionAdmin: "revoke the selected sessions" (matches the delete view) -------


@pytest.fixture
def bob_session(user_factory):
    bob = user_factory(username="bob")
    client = Client()
    client.force_login(bob)
    return Session.objects.get(user=bob), client


def test_view_only_staff_cannot_revoke_sessions(user_factory, bob_session):
    row, bob_client = bob_session
    clerk = staff_client(user_factory, "clerk", "view_session", app_label="accounts")
    assert "revoke_selected" not in actions_offered(clerk, SESSIONS)
    response = clerk.post(SESSIONS, {"action": "revoke_selected", "_selected_action": [row.pk]})
    assert response.status_code == 200
    assert not list(get_messages(response.wsgi_request))
    assert clerk.post(f"{SESSIONS}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Session.objects.filter(pk=row.pk).exists()
    assert bob_client.get("/accounts/profile/").status_code == 200


def test_delete_staff_can_revoke_sessions(user_factory, bob_session):
    row, bob_client = bob_session
    operator = staff_client(user_factory, "operator", "view_session", "delete_session", app_label="accounts")
    assert "revoke_selected" in actions_offered(operator, SESSIONS)
    response = operator.post(SESSIONS, {"action": "revoke_selected", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert not Session.objects.filter(pk=row.pk).exists()
    assert bob_client.get("/accounts/profile/").status_code == 302


def test_superuser_can_revoke_sessions(root, bob_session):
    _, root_client = root
    row, bob_client = bob_session
    assert "revoke_selected" in actions_offered(root_client, SESSIONS)
    response = root_client.post(SESSIONS, {"action": "revoke_selected", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert not Session.objects.filter(pk=row.pk).exists()
    assert bob_client.get("/accounts/profile/").status_code == 302


def test_staff_offered_other_actions_still_cannot_forge_this_one(user_factory, root):
    superuser, root_client = root
    deleter = staff_client(user_factory, "deleter", "view_user", "delete_user", app_label="accounts")
    assert actions_offered(deleter, USERS) == {"delete_selected"}
    response = deleter.post(
        USERS, {"action": "revoke_all_sessions_and_tokens", "_selected_action": [superuser.pk]}
    )
    assert response.status_code == 302
    assert [m.message for m in get_messages(response.wsgi_request)] == ["No action selected."]
    assert _logged_in(root_client)


def test_every_custom_action_of_every_admin_declares_its_permissions():
    """A new action without permissions= would be open to view-only staff again."""
    from django.apps import apps
    from django.contrib import admin

    checked = []
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        for action in model_admin.actions or ():
            func = getattr(model_admin, action) if isinstance(action, str) else action
            assert getattr(func, "allowed_permissions", None), f"{type(model_admin).__name__}.{action}"
            checked.append(action)
    assert sorted(checked) == [
        "reset_second_factors",
        "revoke_all_sessions_and_tokens",
        "revoke_family",
        "revoke_family",
        "revoke_family",
        "revoke_selected",
    ]
