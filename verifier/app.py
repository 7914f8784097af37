"""The verifier's WSGI app: GET /whoami answers with the claims of a bearer access token, verified offline.

It holds no database, no cache server and no session: a token is good when
its signature verifies with the site's published key named by its ``kid``
and its ``iss``, ``aud``, ``exp`` and ``token_type`` claims are right. So it
cannot know of revocations: a revoked access token is accepted until ``exp``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import jwt

from verifier.config import Config, config_from_env
from verifier.jwks import KEY_TYPES, KeyCache, VerifyingKey
from verifier.verified import Verified, VerifiedTokens

PATH = "/whoami"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti", "token_type"]


# The claims that hold a NumericDate (RFC 7519 §2, §4.1.4-4.1.6), and the
# last second a datetime can hold (9999-12-31T23:59:59Z).
TIME_CLAIMS = ("exp", "iat", "nbf")
NUMERIC_DATE_MAX = 253_402_300_799


def numeric_date_valid(value: object) -> bool:
    """Return whether ``value`` is a NumericDate in range: a finite JSON number from 1970 to year 9999.

    PyJWT takes whatever int() takes ("9999999999", 1e300, true) as a date;
    a signed token with such a claim is invalid, not valid for ever (RFC 8725
    §3.8, validate all claims; OWASP ASVS 5.0 V9.2.1). The site's own check
    (api/keyring.py) is the same rule: this process imports nothing of the site.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 <= value <= NUMERIC_DATE_MAX  # False for NaN; infinities are out of range


class TokenRefused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


class VerifierApp:
    """The WSGI application; ``clock`` (epoch seconds) decides expiry, so tests can move time."""

    def __init__(self, *, config: Config, keys: KeyCache, clock: Callable[[], float] = time.time):
        self.config, self.keys, self.clock = config, keys, clock
        self.verified = VerifiedTokens(maxsize=config.verified_cache_size)

    def token_verify(self, *, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (header, claims) of ``token``; raise TokenRefused with a stable code.

        A token verified before under a key still published skips the
        signature check; its time claims are checked again (verifier/verified.py).
        """
        known = self.verified.get(token)
        if known is not None:
            if self.keys.key_get(kid=known.header["kid"]) is known.key and self._in_time(known.claims):
                return dict(known.header), dict(known.claims)  # nested values are only ever read
            self.verified.discard(token)  # the full check decides, with its own error
        header, claims, key = self._verify(token)
        self.verified.put(token, Verified(header=header, claims=claims, key=key))
        return dict(header), dict(claims)

    def _in_time(self, claims: dict[str, Any]) -> bool:
        # PyJWT's comparisons for nbf and iat, and ours for exp, at this moment.
        now, leeway = self.clock(), self.config.leeway
        not_before = all(claims[name] <= now + leeway for name in ("nbf", "iat") if name in claims)
        return not_before and claims["exp"] > now - leeway

    def _verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any], VerifyingKey]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("token_not_valid", "Token is malformed.") from None
        # The header's alg is compared with the key's, never trusted on its own;
        # jwk, jku, x5u and x5c headers are ignored (RFC 8725 §2.1, §3.1, §3.10).
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in KEY_TYPES:
            raise TokenRefused("token_not_valid", "Token algorithm is not accepted.")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("token_not_valid", "Token names no key (kid).")
        key = self.keys.key_get(kid=kid)
        if key is None:
            raise TokenRefused("unknown_kid", "Token is signed by a key the site does not publish.")
        if alg != key.algorithm:
            raise TokenRefused("token_not_valid", "Token algorithm does not match its key.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                # exp is checked below against the injectable clock.
                options={"require": REQUIRED_CLAIMS, "verify_exp": False},
            )
        except jwt.InvalidAudienceError:
            raise TokenRefused("wrong_audience", "Token is meant for another audience.") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("wrong_issuer", "Token comes from another issuer.") from None
        except (jwt.PyJWTError, ValueError, TypeError, UnicodeError, OverflowError):
            raise TokenRefused("token_not_valid", "Token is invalid.") from None
        if not all(numeric_date_valid(claims[name]) for name in TIME_CLAIMS if name in claims):
            raise TokenRefused("token_not_valid", "Token has a time claim that is not a date in range.")
        exp = claims["exp"]
        if exp <= self.clock() - self.config.leeway:
            raise TokenRefused("token_expired", "Token is expired.")
        # Explicit typing: a refresh token is never an access token (RFC 8725 §3.11).
        if claims["token_type"] != "access":
            raise TokenRefused("wrong_type", "Token is not an access token.")
        return header, claims, key

    def whoami(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return self._refused(TokenRefused("not_authenticated", "Bearer access token required."))
        if not token or " " in token.strip():
            return self._refused(
                TokenRefused("bad_authorization_header", "Authorization must be 'Bearer <token>'.")
            )
        try:
            header, claims = self.token_verify(token=token.strip())
        except TokenRefused as refused:
            return self._refused(refused)
        body = {
            "header": {name: header[name] for name in ("alg", "kid", "typ") if name in header},
            "claims": claims,
            "expires_in": max(0, int(claims["exp"] - self.clock())),
            "revocation_checked": False,
        }
        return 200, body, {}

    def _refused(self, refused: TokenRefused) -> tuple[int, dict[str, Any], dict[str, str]]:
        challenge = "Bearer" if refused.code == "not_authenticated" else 'Bearer error="invalid_token"'
        return 401, {"detail": refused.detail, "code": refused.code}, {"WWW-Authenticate": challenge}

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Vary": "Origin"}
        origin = environ.get("HTTP_ORIGIN", "")
        if origin and origin in self.config.allowed_origins:
            # The site's pages call /whoami from the browser with a bearer
            # header; no cookies, so no Allow-Credentials.
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
        if path != PATH:
            status, body = 404, {"detail": "Not found.", "code": "not_found"}
        elif method == "OPTIONS":
            headers["Allow"] = "GET, OPTIONS"
            if "Access-Control-Allow-Origin" in headers:
                headers["Access-Control-Allow-Methods"] = "GET"
                headers["Access-Control-Allow-Headers"] = "Authorization"
                headers["Access-Control-Max-Age"] = "600"
            status, body = 204, None
        elif method != "GET":
            headers["Allow"] = "GET, OPTIONS"
            status, body = 405, {"detail": f'Method "{method}" not allowed.', "code": "method_not_allowed"}
        else:
            status, body, extra = self.whoami(environ)
            headers.update(extra)
        payload = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(payload))
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [payload]


def key_cache_create(*, config: Config, **options: Any) -> KeyCache:
    """Return the key cache of ``config``'s JWKS; ``options`` (fetch, clock) go to KeyCache."""
    return KeyCache(
        url=config.jwks_url,
        refetch_interval=config.refetch_interval,
        min_ttl=config.jwks_min_ttl,
        max_ttl=config.jwks_max_ttl,
        timeout=config.fetch_timeout,
        **options,
    )


def application_create(*, config: Config) -> VerifierApp:
    """Return the verifier for ``config``, with its own key cache."""
    return VerifierApp(config=config, keys=key_cache_create(config=config))


def application_from_env() -> VerifierApp:
    """Return the verifier configured by the environment (gunicorn's entry point)."""
    return application_create(config=config_from_env())
