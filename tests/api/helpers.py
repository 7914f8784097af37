"""URLs and assertions of the JWT-side tests (fixtures are in conftest.py)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.models import FamilyToken, TokenFamily

TOKEN_URL = reverse("api:token")
REFRESH_URL = reverse("api:token-refresh")
VERIFY_URL = reverse("api:token-verify")
REVOKE_URL = reverse("api:token-revoke")
COOKIE_LOGIN_URL = reverse("api:cookie-login")
COOKIE_REFRESH_URL = reverse("api:cookie-refresh")
COOKIE_LOGOUT_URL = reverse("api:cookie-logout")
LOGOUT_ALL_URL = reverse("api:logout-all")
ME_URL = reverse("api:me")
JWKS_URL = reverse("api:jwks")


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Assert a JSON error body with detail and code (and the given status and code)."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("code"), str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def rotated(api_client, pair: dict) -> dict:
    """Return the new pair a refresh of ``pair`` gives (the old refresh token is then rotated out)."""
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def csrf_header(client) -> dict:
    """Return the X-CSRFToken header of ``client``'s csrftoken cookie."""
    return {"HTTP_X_CSRFTOKEN": client.cookies[settings.CSRF_COOKIE_NAME].value}


def links_orphaned():
    """Return the family links whose token or family row is gone (the database does not refuse them)."""
    return FamilyToken.objects.filter(
        Q(~Exists(OutstandingToken.objects.filter(pk=OuterRef("token_id"))))
        | Q(~Exists(TokenFamily.objects.filter(pk=OuterRef("family_id"))))
    )
