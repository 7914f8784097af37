"""Ask the stateless verifier (verifier/, a separate process) about an access token, over HTTP."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

_MAX_BODY = 64 * 1024
# A page rendered for a person asks with this ceiling at most: a verifier that
# hangs costs the page this long, once, and the page says it did not answer.
PAGE_TIMEOUT = 0.5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the Authorization header elsewhere: refuse it.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxies from the environment either: the token goes to VERIFIER_URL only.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass(frozen=True)
class VerifierAnswer:
    """The verifier's verdict; ``available`` is False when it could not be reached."""

    available: bool
    status: int | None = None
    code: str = ""
    expires_in: int | None = None
    # The claims the verifier read from an accepted token (RFC 8176 amr, OIDC auth_time).
    amr: tuple[str, ...] | None = None
    auth_time: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 200

    def as_dict(self) -> dict:
        return {
            "available": self.available,
            "url": verifier_url(),
            "status": self.status,
            "code": self.code,
            "accepted": self.accepted,
            "expires_in": self.expires_in,
            "amr": list(self.amr) if self.amr is not None else None,
            "auth_time": self.auth_time,
        }


def verifier_url() -> str:
    """Return the URL of the verifier's /whoami (from the VERIFIER_URL setting)."""
    return settings.VERIFIER_URL.rstrip("/") + "/whoami"


def _claims_assurance(body: dict) -> tuple[tuple[str, ...] | None, int | None]:
    claims = body.get("claims")
    if not isinstance(claims, dict):
        return None, None
    amr, auth_time = claims.get("amr"), claims.get("auth_time")
    valid_amr = isinstance(amr, list) and all(isinstance(m, str) for m in amr)
    valid_time = isinstance(auth_time, int) and not isinstance(auth_time, bool)
    return (tuple(amr) if valid_amr else None), (auth_time if valid_time else None)


def verifier_whoami(*, raw_access: str, timeout: float | None = None) -> VerifierAnswer:
    """Return the verifier's answer to ``raw_access`` as a bearer token; never raises for a network fault.

    ``timeout`` (seconds) lowers VERIFIER_TIMEOUT for this call, never raises it.
    """
    request = urllib.request.Request(  # noqa: S310 - the URL is the VERIFIER_URL setting, http(s) only
        verifier_url(), headers={"Authorization": f"Bearer {raw_access}", "Accept": "application/json"}
    )
    if not verifier_url().startswith(("http://", "https://")):
        return VerifierAnswer(available=False)
    try:
        limit = settings.VERIFIER_TIMEOUT if timeout is None else min(timeout, settings.VERIFIER_TIMEOUT)
        with _opener.open(request, timeout=limit) as response:
            status, raw = response.status, response.read(_MAX_BODY)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(_MAX_BODY)
        exc.close()
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError):
        return VerifierAnswer(available=False)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return VerifierAnswer(available=True, status=status, code="bad_answer")
    expires_in = body.get("expires_in") if status == 200 else None
    amr, auth_time = _claims_assurance(body) if status == 200 else (None, None)
    return VerifierAnswer(
        available=True,
        status=status,
        code="" if status == 200 else str(body.get("code", "")),
        expires_in=int(expires_in) if isinstance(expires_in, int | float) else None,
        amr=amr,
        auth_time=auth_time,
    )
