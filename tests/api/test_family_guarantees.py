"""Guarantees of token families and cookie login that no crash reveals: each test fails if one is dropped."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache, caches

from api import revocation
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


def _revoke_before_the_next_write(monkeypatch, family_id) -> None:
    """Land a revocation after a reader's database read and before its cache write (add or set)."""
    real = caches["default"]
    originals = {name: getattr(real, name) for name in ("add", "set")}
    landed: list[bool] = []

    def racing(name):
        def call(*args, **kwargs):
            if not landed:
                landed.append(True)
                revocation.family_revoke(family_id=family_id)
            return originals[name](*args, **kwargs)

        return call

    for name in originals:
        monkeypatch.setattr(real, name, racing(name))


def test_revocation_wins_the_race_with_a_cold_cache_read(user, obtain, bearer, monkeypatch):
    """A request that read "live" just before the revocation committed cannot put "live" back in the cache."""
    pair = obtain(user)
    family_id = RefreshToken(pair["refresh"]).family_id
    cache.clear()  # cold cache: the next check reads the family row
    _revoke_before_the_next_write(monkeypatch, family_id)
    # The in-flight request read the row before the revocation: it may still pass.
    assert revocation.family_is_revoked(family_id=family_id) is False
    assert TokenFamily.objects.get(pk=family_id).revoked_at is not None
    # Every later request sees the revocation, without another database read.
    assert revocation.family_is_revoked(family_id=family_id) is True
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")


def test_cookie_login_rotates_an_existing_csrftoken(user, password, api_client):
    api_client.get("/")  # the home page sets csrftoken
    before = api_client.cookies[settings.CSRF_COOKIE_NAME].value
    response = api_client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    after = response.cookies[settings.CSRF_COOKIE_NAME].value
    # A token planted before login (fixation) must not survive it (OWASP ASVS 5.0 V3.5.1).
    assert len(after) == len(before) == 32 and after != before


def test_the_family_id_follows_the_claim_it_is_parsed_from(user, obtain):
    # Parsed once per claim value (verify() and the revocation check both ask):
    # a token whose claim changes answers with the new family, and a claim made
    # malformed is refused, never answered from the earlier parse.
    import uuid

    from rest_framework_simplejwt.exceptions import TokenError

    from api.tokens import FAMILY_CLAIM, AccessToken

    token = AccessToken(obtain(user)["access"])
    first = token.family_id
    assert token.family_id is first
    other = uuid.uuid4()
    token[FAMILY_CLAIM] = str(other)
    assert token.family_id == other
    token[FAMILY_CLAIM] = "not a uuid"
    with pytest.raises(TokenError):
        assert token.family_id
    del token.payload[FAMILY_CLAIM]
    with pytest.raises(TokenError):
        token.verify()
