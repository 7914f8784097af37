"""The admin of users and sessions: columns, search, read-only sessions, revoking through the services."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Session

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_clients(user, password):
    clients = []
    for ua in ("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "curl/8.0"):
        c = Client(HTTP_USER_AGENT=ua)
        response = c.post(reverse("accounts:login"), {"username": "alice", "password": password})
        assert response.status_code == 302
        clients.append(c)
    return clients


def _authenticated(client) -> bool:
    return client.get(reverse("accounts:profile")).status_code == 200


def test_sessions_changelist_shows_columns_and_never_the_key(admin_client, alice_clients, user):
    response = admin_client.get("/admin/accounts/session/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "alice" in body and "Firefox 128 on Linux" in body
    rows = Session.objects.filter(user=user)
    assert rows.count() == 2
    for row in rows:
        assert row.session_key not in body
        assert row.public_id in body
    change = admin_client.get(f"/admin/accounts/session/{rows[0].pk}/change/").content.decode()
    assert rows[0].session_key not in change
    assert "Firefox" in change or "curl" in change


def test_sessions_search_by_username_and_filter(admin_client, alice_clients, user_factory, clock):
    bob = user_factory(username="bob")
    Client().force_login(bob)
    response = admin_client.get("/admin/accounts/session/?q=alice")
    assert response.context["cl"].result_count == 2
    clock.shift(timedelta(days=-30))
    Client().force_login(bob)  # expired by now
    clock.shift(timedelta(days=30))
    assert admin_client.get("/admin/accounts/session/?state=expired").context["cl"].result_count == 1
    active = admin_client.get("/admin/accounts/session/?state=active").context["cl"].result_count
    assert active == Session.objects.count() - 1


def test_sessions_admin_revoke_action(admin_client, alice_clients, user):
    ids = list(Session.objects.filter(user=user).values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/accounts/session/", {"action": "revoke_selected", "_selected_action": ids}
    )
    assert response.status_code == 302
    assert not Session.objects.filter(user=user).exists()
    assert not any(_authenticated(c) for c in alice_clients)


def test_sessions_admin_is_read_only(admin_client, alice_clients, user):
    row = Session.objects.filter(user=user).first()
    assert admin_client.get("/admin/accounts/session/add/").status_code == 403
    response = admin_client.post(f"/admin/accounts/session/{row.pk}/change/", {"ip": "10.0.0.1"})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.ip != "10.0.0.1"


def test_sessions_admin_delete_goes_through_the_service(admin_client, alice_clients, user):
    row = Session.objects.filter(user=user).first()
    response = admin_client.post(f"/admin/accounts/session/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Session.objects.filter(pk=row.pk).exists()
    assert sum(_authenticated(c) for c in alice_clients) == 1


def test_user_admin_revoke_all_action(admin_client, alice_clients, user, user_factory, monkeypatch):
    import api.revocation

    revoked = []
    monkeypatch.setattr(api.revocation, "tokens_revoke_all", lambda *, user, **kw: revoked.append(user) or 0)
    bob = user_factory(username="bob")
    bob_client = Client()
    bob_client.force_login(bob)
    response = admin_client.post(
        "/admin/accounts/user/", {"action": "revoke_all_sessions_and_tokens", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    assert revoked == [user]
    assert not any(_authenticated(c) for c in alice_clients)
    assert _authenticated(bob_client)
    assert _authenticated(admin_client), "the admin's own session is untouched"


def test_user_admin_deactivation_ends_sessions(admin_client, alice_clients, user):
    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = response.context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("password", "groups", "user_permissions")
    }
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "is_active": ""})
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("is_active")
    response = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user.refresh_from_db()
    assert not user.is_active
    assert not any(_authenticated(c) for c in alice_clients)


def test_user_admin_delete_ends_sessions(admin_client, alice_clients, user):
    response = admin_client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert not any(_authenticated(c) for c in alice_clients)


def test_admin_setting_a_password_ends_the_users_sessions(admin_client, alice_clients, user):
    new = "Admin-set-passw0rd"
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert not Session.objects.filter(user=user).exists()
    assert _authenticated(admin_client)


def test_admin_password_form_errors_end_nothing(admin_client, alice_clients, user):
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/", {"password1": "a", "password2": "b"}
    )
    assert response.status_code == 200
    assert Session.objects.filter(user=user).count() == 2


# --- branding and the user page's "Revoke all sessions and tokens" button -------


def test_admin_is_branded_authdemo(admin_client):
    body = admin_client.get("/admin/").content.decode()
    assert "authdemo administration" in body
    assert "<title>Users, sessions and tokens | authdemo admin</title>" in body


def test_user_page_revoke_button_ends_every_session_and_token(admin_client, alice_clients, user, password):
    from rest_framework.test import APIClient

    from api.models import TokenFamily

    pair = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": password}, format="json"
    ).json()
    url = f"/admin/accounts/user/{user.pk}/revoke-all/"
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert f'action="{url}"' in page and "Revoke all sessions and tokens" in page

    response = admin_client.post(url, follow=True)
    assert response.redirect_chain == [(f"/admin/accounts/user/{user.pk}/change/", 302)]
    assert "Revoked every session and token of alice." in response.content.decode()
    assert not any(_authenticated(c) for c in alice_clients)
    assert Session.objects.filter(user=user).count() == 0
    assert not TokenFamily.objects.filter(user=user, revoked_at__isnull=True).exists()
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert bearer.get("/api/me/").status_code == 401
    # The admin's own session is untouched.
    assert admin_client.get("/admin/").status_code == 200


def test_revoke_button_is_post_only_csrf_protected_and_staff_only(
    admin_user, alice_clients, user, user_factory
):
    url = f"/admin/accounts/user/{user.pk}/revoke-all/"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.get(url).status_code == 405
    assert strict.post(url).status_code == 403  # no CSRF token
    staff_only = user_factory(username="clerk", is_staff=True)  # staff without change permission
    clerk = Client()
    clerk.force_login(staff_only)
    assert clerk.post(url).status_code == 403
    anonymous = Client().post(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    # Nothing was revoked by any of these.
    assert all(_authenticated(c) for c in alice_clients)


def test_revoke_button_for_an_unknown_user_is_404(admin_client):
    assert admin_client.post("/admin/accounts/user/999999/revoke-all/").status_code == 404
