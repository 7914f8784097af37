"""accounts.services: the one revocation path, and everything that must call it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Session
from accounts.sessions import REVOKED_KEY, SessionStore
from authcache.live import cache_read
from tests.api.helpers import LOGOUT_ALL_URL, ME_URL

pytestmark = pytest.mark.django_db


def _logged_in_clients(user, n):
    clients = []
    for _ in range(n):
        c = Client()
        c.force_login(user)
        clients.append(c)
    return clients


def _key(client):
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _authenticated(client) -> bool:
    return client.get(reverse("accounts:profile")).status_code == 200


def _cached(key) -> bool:
    """Return whether the cache holds live session data (not a revocation tombstone) for key."""
    read = cache_read(key=SessionStore.cache_key_prefix + key, alias=settings.SESSION_CACHE_ALIAS)
    return read.live and bool(read.value) and REVOKED_KEY not in read.value


def test_session_revoke_ends_one_session_row_and_cache(user):
    a, b = _logged_in_clients(user, 2)
    assert _cached(_key(a))
    assert services.session_revoke(user=user, session_key=_key(a)) is True
    assert not Session.objects.filter(session_key=_key(a)).exists()
    assert not _cached(_key(a))
    assert not _authenticated(a)
    assert _authenticated(b)


def test_session_revoke_refuses_another_users_session(user, user_factory):
    (a,) = _logged_in_clients(user, 1)
    other = user_factory(username="mallory")
    assert services.session_revoke(user=other, session_key=_key(a)) is False
    assert services.session_revoke(user=user, session_key="does-not-exist") is False
    assert _authenticated(a)


def test_sessions_revoke_all_keeps_one(user, user_factory):
    a, b, c = _logged_in_clients(user, 3)
    (bystander,) = _logged_in_clients(user_factory(username="bob"), 1)
    assert services.sessions_revoke_all(user=user, keep_session_key=_key(a)) == 2
    assert _authenticated(a)
    assert not _authenticated(b) and not _authenticated(c)
    assert _authenticated(bystander)


def test_user_revoke_all_ends_sessions_and_tokens(user, monkeypatch):
    calls = []
    import api.revocation

    monkeypatch.setattr(api.revocation, "tokens_revoke_all", lambda *, user, **kw: calls.append(user) or 0)
    a, b = _logged_in_clients(user, 2)
    services.user_revoke_all(user=user)
    assert calls == [user]
    assert not _authenticated(a) and not _authenticated(b)
    assert not Session.objects.filter(user=user).exists()


@pytest.mark.parametrize("how", ["save", "save_update_fields"])
def test_deactivation_ends_every_session(user, how):
    a, b = _logged_in_clients(user, 2)
    user.is_active = False
    if how == "save":
        user.save()
    else:
        user.save(update_fields=["is_active"])
    assert not Session.objects.filter(user=user).exists()
    assert not _authenticated(a) and not _authenticated(b)


def test_saving_an_active_user_ends_nothing(user):
    (a,) = _logged_in_clients(user, 1)
    user.first_name = "Changed"
    user.save()
    assert _authenticated(a)


def test_user_deletion_ends_every_session_and_cache_entry(user):
    a, b = _logged_in_clients(user, 2)
    keys = [_key(a), _key(b)]
    user.delete()
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not any(_cached(k) for k in keys)
    assert not _authenticated(a)


def test_deactivation_through_the_api_user_object_ends_sessions(user, django_user_model):
    (a,) = _logged_in_clients(user, 1)
    fresh = django_user_model.objects.get(pk=user.pk)  # another copy, as a shell would load it
    fresh.is_active = False
    fresh.save()
    assert not _authenticated(a)


def test_sessions_active_list_excludes_other_users_and_expired(user, user_factory, clock):
    _logged_in_clients(user, 2)
    _logged_in_clients(user_factory(username="bob"), 1)
    clock.shift(timedelta(days=-30))
    _logged_in_clients(user, 1)  # expired long ago
    clock.shift(timedelta(days=30))
    rows = services.sessions_active_list(user=user)
    assert len(rows) == 2 and all(r.user_id == user.pk for r in rows)


def test_api_logout_all_with_a_session_ends_every_session(user):
    me, other = _logged_in_clients(user, 2)
    csrf = Client(enforce_csrf_checks=True)
    csrf.cookies = me.cookies
    csrf.get(reverse("accounts:login"))  # a csrftoken cookie
    token = csrf.cookies[settings.CSRF_COOKIE_NAME].value
    response = csrf.post(
        LOGOUT_ALL_URL, data="{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 204
    assert not Session.objects.filter(user=user).exists()
    assert not _authenticated(other)


def test_revocation_wins_the_race_with_a_cold_cache_read(user):
    """A request that read the row just before revocation cannot put it back in the cache."""
    (victim,) = _logged_in_clients(user, 1)
    key = _key(victim)
    caches[settings.SESSION_CACHE_ALIAS].clear()  # cold cache: the next read goes to the database
    store = SessionStore(key)
    read_row = store.row_read

    def read_then_revoke():
        row = read_row()
        services.sessions_revoke_all(user=user)  # lands between the read and the cache fill
        return row

    store.row_read = read_then_revoke
    store.load()
    assert not _cached(key)
    assert not _authenticated(victim)


def _bearer_works(access: str) -> bool:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME_URL).status_code == 200


def _token_pair(user) -> str:
    from api.logins import token_pair_issue

    return str(token_pair_issue(user=user).access)


@pytest.mark.parametrize("how", ["save", "save_update_fields"])
def test_password_set_from_a_shell_ends_every_session_and_jwt(user, how):
    a, b = _logged_in_clients(user, 2)
    access = _token_pair(user)
    assert _bearer_works(access)
    user.set_password("A-brand-new-passw0rd")
    if how == "save":
        user.save()
    else:
        user.save(update_fields=["password"])
    assert not Session.objects.filter(user=user).exists()
    assert not _authenticated(a) and not _authenticated(b)
    assert not _bearer_works(access)


def test_changepassword_command_ends_every_session_and_jwt(user, monkeypatch):
    from django.core.management import call_command

    (a,) = _logged_in_clients(user, 1)
    access = _token_pair(user)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "A-brand-new-passw0rd")
    call_command("changepassword", user.username, stdout=None)
    assert not _authenticated(a)
    assert not _bearer_works(access)


def test_saving_other_fields_after_set_password_elsewhere_ends_nothing(user):
    (a,) = _logged_in_clients(user, 1)
    access = _token_pair(user)
    user.first_name = "Renamed"
    user.save(update_fields=["first_name"])
    assert _authenticated(a)
    assert _bearer_works(access)


def test_hash_upgrade_at_login_is_not_a_password_change(user, password, settings):
    """Django re-hashes with the first hasher at login; that must not log anybody out."""
    (a,) = _logged_in_clients(user, 1)
    access = _token_pair(user)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = user.password
    assert old_hash.startswith("md5$")
    login = Client().post(reverse("accounts:login"), {"username": user.username, "password": password})
    assert login.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    # No revocation ran: the other session's row and the JWT survive. (Django's
    # own session hash check, derived from the password hash, still makes the
    # other browser log in again once: stock Django behaviour.)
    assert Session.objects.filter(user=user, session_key=_key(a)).exists()
    assert _bearer_works(access)


def _refresh_works(refresh: str) -> bool:
    from rest_framework.test import APIClient

    response = APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    return response.status_code == 200


def _full_pair(user) -> tuple[str, str]:
    from api.logins import token_pair_issue

    pair = token_pair_issue(user=user)
    return str(pair.access), str(pair.refresh)


@pytest.mark.parametrize("loaded", ["fixture_instance", "fresh_from_db"])
def test_set_unusable_password_from_a_shell_ends_every_jwt(user, loaded, django_user_model):
    (a,) = _logged_in_clients(user, 1)
    access, refresh = _full_pair(user)
    assert _bearer_works(access)
    target = user if loaded == "fixture_instance" else django_user_model.objects.get(pk=user.pk)
    target.set_unusable_password()
    target.save()
    assert not _authenticated(a)
    assert not _bearer_works(access)
    assert not _refresh_works(refresh)


def test_hash_assigned_in_a_shell_ends_every_jwt(user, django_user_model):
    from django.contrib.auth.hashers import make_password

    access, refresh = _full_pair(user)
    target = django_user_model.objects.get(pk=user.pk)
    target.password = make_password("A-brand-new-passw0rd")
    target.save(update_fields=["password"])
    assert not _bearer_works(access)
    assert not _refresh_works(refresh)


def test_admin_disabling_password_login_ends_every_jwt(admin_client, user):
    access, refresh = _full_pair(user)
    (a,) = _logged_in_clients(user, 1)
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "false", "password1": "", "password2": "", "unset-password": "1"},
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not _authenticated(a)
    assert not _bearer_works(access)
    assert not _refresh_works(refresh)


def test_second_save_after_a_password_change_revokes_nothing_new(user, monkeypatch):
    user.set_unusable_password()
    user.save()
    access, _refresh = _full_pair(user)  # a login after the change (e.g. by another mechanism)
    calls = []
    monkeypatch.setattr(services, "user_revoke_all", lambda **kw: calls.append(kw))
    user.first_name = "Again"
    user.save()
    assert calls == []
    assert _bearer_works(access)
