"""The token admins' "revoke family" action needs api.change_tokenfamily, on every admin that offers it.

Per admin and per permission level: view-only staff are not offered the
action and a forged POST of it revokes nothing; staff with the revoke
permission and superusers can run it (OWASP ASVS 5.0 V8.2.1).
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.helpers import ME_URL, REFRESH_URL, assert_error
from tests.siteadmin.helpers import actions_offered, staff_client

pytestmark = pytest.mark.django_db

# admin path -> (the view permission of its model, how to find the row of a pair's refresh token)
ADMINS = {
    "/admin/token_blacklist/outstandingtoken/": (
        "view_outstandingtoken",
        lambda refresh: OutstandingToken.objects.get(jti=RefreshToken(refresh)["jti"]).pk,
    ),
    "/admin/token_blacklist/blacklistedtoken/": (
        "view_blacklistedtoken",
        lambda refresh: OutstandingToken.objects.get(jti=RefreshToken(refresh)["jti"]).blacklistedtoken.pk,
    ),
    "/admin/api/tokenfamily/": ("view_tokenfamily", lambda refresh: RefreshToken(refresh)["fam"]),
}


@pytest.fixture
def target(user, obtain, api_client):
    """A live login of alice, and a refresh token of it that has a row in every token admin."""
    pair = obtain(user)
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    rotated = response.json()
    return pair["refresh"], rotated["access"]


def _live(bearer, access) -> bool:
    return bearer(access).get(ME_URL).status_code == 200


@pytest.mark.parametrize("path", ADMINS)
def test_view_only_staff_cannot_revoke_a_family(path, user_factory, target, bearer):
    refresh, access = target
    view, row = ADMINS[path]
    clerk = staff_client(user_factory, "clerk", view)
    assert "revoke_family" not in actions_offered(clerk, path)
    response = clerk.post(path, {"action": "revoke_family", "_selected_action": [row(refresh)]})
    assert response.status_code == 200  # no action offered: the changelist again, nothing run
    assert not list(get_messages(response.wsgi_request))
    assert _live(bearer, access)
    assert not TokenFamily.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.parametrize("path", ADMINS)
def test_revoke_staff_can_revoke_a_family(path, user_factory, target, bearer):
    refresh, access = target
    view, row = ADMINS[path]
    operator = staff_client(user_factory, "operator", view, "change_tokenfamily")
    assert "revoke_family" in actions_offered(operator, path)
    response = operator.post(path, {"action": "revoke_family", "_selected_action": [row(refresh)]})
    assert response.status_code == 302
    assert_error(bearer(access).get(ME_URL), 401, "token_revoked")
    assert TokenFamily.objects.get(pk=RefreshToken(refresh)["fam"]).revoked_reason == "admin"


@pytest.mark.parametrize("path", ADMINS)
def test_superuser_can_revoke_a_family(path, admin_client, target, bearer):
    refresh, access = target
    _, row = ADMINS[path]
    assert "revoke_family" in actions_offered(admin_client, path)
    response = admin_client.post(path, {"action": "revoke_family", "_selected_action": [row(refresh)]})
    assert response.status_code == 302
    assert_error(bearer(access).get(ME_URL), 401, "token_revoked")
