"""The project's token classes: SimpleJWT's, with a family claim and a pluggable backend.

Every token carries ``jti`` and ``token_type`` (SimpleJWT enforces the type
both ways: RFC 8725 section 3.11, explicit typing) and ``fam``, the id of the
login's token family, so one cache lookup answers "is this token revoked";
and, for a login that recorded them, ``amr`` and ``auth_time`` (RFC 8176,
OpenID Connect Core 1.0 section 2): how and when the user authenticated.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.tokens import UntypedToken as SimpleUntypedToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from accounts.assurance import Assurance, assurance_from_claims
from api import keyring

FAMILY_CLAIM = "fam"


class RevokedTokenError(TokenError):
    """The token's family (its login) was revoked."""

    code = "token_revoked"


class ReusedTokenError(TokenError):
    """A refresh token that was already rotated out was presented again."""

    code = "token_reused"


def _family_id(token: Token) -> uuid.UUID:
    try:
        return uuid.UUID(str(token.payload[FAMILY_CLAIM]))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise TokenError(_("Token has no valid family")) from exc


class FamilyMixin:
    """The members both token classes share: lifetime from settings, the family claim, its check."""

    lifetime_setting: str

    # Read per instance from the module attribute, which SimpleJWT rebinds
    # when SIMPLE_JWT changes, so settings overrides (tests) apply.
    @property
    def lifetime(self) -> timedelta:
        return getattr(jwt_settings.api_settings, self.lifetime_setting)

    @property
    def family_id(self) -> uuid.UUID:
        # Parsed once per claim value: verify() and the revocation check both ask.
        claim = self.payload.get(FAMILY_CLAIM)
        parsed = self.__dict__.get("_family_parsed")
        if parsed is not None and parsed[0] is claim:
            return parsed[1]
        family_id = _family_id(self)
        self._family_parsed = (claim, family_id)
        return family_id

    def verify(self) -> None:
        self.verify_claims()
        _ = self.family_id  # raises TokenError when the claim is missing or malformed

    def verify_claims(self) -> None:
        """Check signature, expiry and type, as SimpleJWT's token class does."""
        super().verify()


class BackendMixin:
    """Take the token backend from ``api.keyring.token_backend()``: the key ring (kid, previous keys)."""

    def get_token_backend(self):
        return keyring.token_backend()


class AccessToken(FamilyMixin, BackendMixin, SimpleAccessToken):
    lifetime_setting = "ACCESS_TOKEN_LIFETIME"

    @classmethod
    def for_user(cls, user) -> AccessToken:
        """Return a standalone access token of ``user`` in a new family of its own."""
        from api.models import TokenFamily

        token = super().for_user(user)
        family = TokenFamily.objects.create(user=user, expires_at=datetime_from_epoch(token["exp"]))
        token[FAMILY_CLAIM] = str(family.pk)
        return token


class RefreshToken(FamilyMixin, BackendMixin, SimpleRefreshToken):
    access_token_class = AccessToken
    lifetime_setting = "REFRESH_TOKEN_LIFETIME"

    def check_blacklist(self) -> None:
        # Not SimpleJWT's per-token blacklist query: whether this token was
        # rotated out is decided under a row lock by api.rotation.token_refresh
        # (reuse detection), and everywhere else by token_revocation_check.
        return None

    @classmethod
    def for_user(
        cls, user, *, family=None, client: dict | None = None, assurance: Assurance | None = None
    ) -> RefreshToken:
        """Return a new refresh token of ``user``, recorded as outstanding, in ``family`` (new if None).

        ``client`` holds the new family's ``ip``, ``user_agent`` and ``transport``;
        ``assurance`` becomes the ``amr`` and ``auth_time`` claims, which the
        access tokens made from this token copy (accounts.assurance).
        """
        from api.models import FamilyToken, TokenFamily

        # The claims as SimpleJWT's Token.for_user makes them; not through the
        # blacklist app's for_user, whose outstanding row would hold the token
        # without its family claim: the row is written below, once it is in.
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
        if api_settings.CHECK_REVOKE_TOKEN:
            token[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
        if assurance is not None:
            for claim, value in assurance.claims().items():
                token[claim] = value
        expires_at = datetime_from_epoch(token["exp"])
        with transaction.atomic():
            jti = token[api_settings.JTI_CLAIM]
            if family is None:
                family = TokenFamily.objects.create(
                    user=user, expires_at=expires_at, current_jti=jti, **(client or {})
                )
            else:
                # ``family`` is the row the caller locked: its current token is the one replaced.
                TokenFamily.objects.filter(pk=family.pk).update(
                    expires_at=expires_at, current_jti=jti, previous_jti=family.current_jti
                )
            token[FAMILY_CLAIM] = str(family.pk)
            outstanding = OutstandingToken.objects.create(
                user=user,
                jti=jti,
                token=str(token),
                created_at=token.current_time,
                expires_at=expires_at,
            )
            FamilyToken.objects.create(token=outstanding, family=family)
        return token


class UntypedToken(BackendMixin, SimpleUntypedToken):
    """A token of either type, verified for signature, expiry and claims only."""


def stored_token_amr(*, raw: str | None) -> tuple[str, ...]:
    """Return the amr claim of a refresh token read from our own table (empty when absent or unreadable)."""
    if not raw:
        return ()
    try:
        claims = RefreshToken(raw, verify=False).payload
    except TokenError:
        return ()
    proven = assurance_from_claims(claims)
    return proven.amr if proven else ()
