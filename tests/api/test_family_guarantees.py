"""Guarantees of token families and cookie login that no crash reveals: each test fails if one is dropped."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from api import services
from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.helpers import COOKIE_LOGIN_URL, ME_URL, REFRESH_URL, assert_error

pytestmark = pytest.mark.django_db


def test_a_token_whose_family_row_is_gone_is_refused(api_client, user, obtain, bearer):
    pair = obtain(user)
    TokenFamily.objects.filter(pk=RefreshToken(pair["refresh"]).family_id).delete()
    cache.clear()  # the verdict must come from the database: no row means revoked, never live
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json"), 401, "token_revoked"
    )


class _RevokeBeforeVerdictWrite:
    """The cache, with a revocation landing after a reader's database read and before its cache write."""

    def __init__(self, real, family_id, monkeypatch) -> None:
        self.real, self.family_id, self.monkeypatch = real, family_id, monkeypatch

    def __getattr__(self, name):
        return getattr(self.real, name)

    def _revoke_first(self):
        self.monkeypatch.setattr(services, "cache", self.real)
        services.family_revoke(family_id=self.family_id)

    def add(self, *args, **kwargs):
        self._revoke_first()
        return self.real.add(*args, **kwargs)

    def set(self, *args, **kwargs):
        self._revoke_first()
        return self.real.set(*args, **kwargs)


def test_revocation_wins_the_race_with_a_cold_cache_read(user, obtain, bearer, monkeypatch):
    """A request that read "live" just before the revocation committed cannot put "live" back in the cache."""
    pair = obtain(user)
    family_id = RefreshToken(pair["refresh"]).family_id
    cache.clear()  # cold cache: the next check reads the family row
    monkeypatch.setattr(services, "cache", _RevokeBeforeVerdictWrite(cache, family_id, monkeypatch))
    # The in-flight request read the row before the revocation: it may still pass.
    assert services.family_is_revoked(family_id=family_id) is False
    assert TokenFamily.objects.get(pk=family_id).revoked_at is not None
    # Every later request sees the revocation, without another database read.
    assert services.family_is_revoked(family_id=family_id) is True
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")


def test_cookie_login_rotates_an_existing_csrftoken(user, password, api_client):
    api_client.get("/")  # the home page sets csrftoken
    before = api_client.cookies["csrftoken"].value
    response = api_client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    after = response.cookies["csrftoken"].value
    # A token planted before login (fixation) must not survive it (OWASP ASVS 5.0 V3.5.1).
    assert len(after) == len(before) == 32 and after != before
