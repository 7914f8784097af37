"""seed_load: seeded users, sessions and JWT logins as the app writes them; idempotent; refuses bad input."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Session
from accounts.sessions import SessionStore, public_id_for
from api.models import FamilyToken, TokenFamily
from api.seedload import USERNAME_PREFIX, seed_username
from tests.api.helpers import REFRESH_URL
from usernames import username_canonical, username_skeleton

pytestmark = pytest.mark.django_db


def seed(*args, **kwargs) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_load", *args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True


def seeded_sessions():
    return Session.objects.filter(user__username__startswith=USERNAME_PREFIX)


def seeded_families():
    return TokenFamily.objects.filter(user__username__startswith=USERNAME_PREFIX)


def test_writes_users_sessions_and_jwt_logins_spread_over_users():
    out, err = seed("--users", "4", "--logins", "10", "--expired", "0.5")
    users = get_user_model().objects.filter(username__startswith=USERNAME_PREFIX)
    assert sorted(users.values_list("username", flat=True)) == [seed_username(i) for i in range(4)]
    assert seeded_sessions().count() == 10
    assert seeded_families().count() == 10
    assert OutstandingToken.objects.filter(user__in=users).count() == 20
    assert FamilyToken.objects.filter(family__in=seeded_families()).count() == 20
    assert BlacklistedToken.objects.filter(token__user__in=users).count() == 10
    # Spread: every user has two or three of each.
    for user in users:
        assert 2 <= user.sessions.count() <= 3
        assert 2 <= user.token_families.count() <= 3
    now = timezone.now()
    assert seeded_sessions().filter(expire_date__lte=now).count() == 5
    assert seeded_families().filter(expires_at__lte=now).count() == 5
    assert "4 users, 10 sessions, 10 token families, 20 outstanding and 10 blacklisted" in out
    assert "sessions [" in err and "JWT logins [" in err


def test_seeded_users_cannot_log_in_and_share_one_hash(client):
    seed("--users", "3", "--logins", "0")
    users = list(get_user_model().objects.filter(username__startswith=USERNAME_PREFIX))
    assert len({u.password for u in users}) == 1
    # The canonical and look-alike keys the model keeps, as save() would set them.
    assert all(u.username_key == username_canonical(u.username) for u in users)
    assert all(u.username_skeleton == username_skeleton(u.username) for u in users)
    assert not any(u.has_usable_password() for u in users)
    response = client.post("/accounts/login/", {"username": seed_username(0), "password": ""})
    assert SESSION_KEY not in client.session
    assert response.status_code in (200, 400)


def test_a_live_seeded_session_is_one_the_engine_accepts(client):
    seed("--users", "2", "--logins", "4")
    row = seeded_sessions().filter(expire_date__gt=timezone.now()).select_related("user").first()
    assert row.public_id == public_id_for(row.session_key)
    data = SessionStore(session_key=row.session_key).load()
    assert data[SESSION_KEY] == str(row.user_id)
    # The cookie of a seeded session is a logged-in browser of that user.
    client.cookies[settings.SESSION_COOKIE_NAME] = row.session_key
    response = client.get("/accounts/sessions/")
    assert response.status_code == 200
    assert response.context["user"].pk == row.user_id


def test_an_expired_seeded_session_is_no_login(client):
    seed("--users", "1", "--logins", "2", "--expired", "1")
    row = seeded_sessions().first()
    assert row.expire_date < timezone.now()
    assert SessionStore(session_key=row.session_key).load() == {}


def test_a_seeded_jwt_login_has_the_rows_of_a_real_login_and_refresh(user, obtain, api_client):
    pair = obtain(user, client=APIClient(HTTP_USER_AGENT="Mozilla/5.0 test"))
    assert api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 200
    seed("--users", "1", "--logins", "1")
    for family in (TokenFamily.objects.get(user=user), seeded_families().get()):
        tokens = list(OutstandingToken.objects.filter(family_link__family=family).order_by("created_at"))
        assert len(tokens) == 2
        assert family.current_jti == tokens[1].jti and family.previous_jti == tokens[0].jti
        assert family.expires_at == tokens[1].expires_at
        assert BlacklistedToken.objects.filter(token__in=tokens).get().token == tokens[0]
        assert family.revoked_at is None and family.ip and family.user_agent and family.transport
        assert all(token.user_id == family.user_id for token in tokens)


def test_seeded_token_strings_are_no_credentials(api_client):
    seed("--users", "1", "--logins", "1")
    family = seeded_families().get()
    token = OutstandingToken.objects.get(jti=family.current_jti)
    assert token.token.endswith(".")  # unsigned
    response = api_client.post(REFRESH_URL, {"refresh": token.token}, format="json")
    assert response.status_code == 401
    family.refresh_from_db()
    assert family.current_jti == token.jti and family.revoked_at is None


def test_rerunning_adds_nothing_and_growing_adds_the_difference():
    seed("--users", "3", "--logins", "5")
    out, _ = seed("--users", "3", "--logins", "5", "--no-progress")
    assert "0 users, 0 sessions, 0 token families" in out
    assert seeded_sessions().count() == 5 and OutstandingToken.objects.count() == 10
    seed("--users", "5", "--logins", "8", "--no-progress")
    assert get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).count() == 5
    assert seeded_sessions().count() == 8
    assert seeded_families().count() == 8
    assert BlacklistedToken.objects.count() == 8


@pytest.mark.parametrize(
    "args",
    [
        ("--users", "0", "--logins", "3"),
        ("--users", "2", "--logins", "-1"),
        ("--users", "2", "--logins", "3", "--expired", "1.5"),
        ("--users", "2", "--logins", "3", "--expired", "-0.1"),
    ],
)
def test_bad_sizes_are_refused_and_write_nothing(args):
    with pytest.raises(CommandError):
        seed(*args)
    assert not get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).exists()
    assert not Session.objects.exists() and not TokenFamily.objects.exists()


def test_production_settings_need_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed("--users", "2", "--logins", "2")
    assert not get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).exists()
    seed("--users", "2", "--logins", "2", "--force")
    assert seeded_sessions().count() == 2
