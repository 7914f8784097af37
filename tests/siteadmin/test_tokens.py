"""Token admins: search by user, the family shown, "revoke family", read-only pages without token strings."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.helpers import ME_URL, REFRESH_URL, assert_error, rotated

pytestmark = pytest.mark.django_db

OUTSTANDING = "/admin/token_blacklist/outstandingtoken/"
BLACKLISTED = "/admin/token_blacklist/blacklistedtoken/"
FAMILIES = "/admin/api/tokenfamily/"


def test_outstanding_admin_searches_by_username_and_shows_family(admin_client, user, user_factory, obtain):
    pair = obtain(user)
    obtain(user_factory(username="bob"))
    response = admin_client.get(OUTSTANDING, {"q": "alice"})
    assert response.status_code == 200
    content = response.content.decode()
    assert RefreshToken(pair["refresh"])["fam"] in content
    assert RefreshToken(pair["refresh"])["jti"] in content
    assert response.context["cl"].result_count == 1
    assert admin_client.get(OUTSTANDING, {"q": "alice@example.com"}).context["cl"].result_count == 1


def test_blacklisted_admin_searches_by_user(admin_client, user, obtain, api_client):
    pair = obtain(user)
    api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    response = admin_client.get(BLACKLISTED, {"q": "alice"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert RefreshToken(pair["refresh"])["fam"] in response.content.decode()


def test_revoke_family_action_kills_that_login_only(admin_client, user, obtain, bearer):
    pair, other = obtain(user), obtain(user)
    token = OutstandingToken.objects.get(jti=RefreshToken(pair["refresh"])["jti"])
    response = admin_client.post(
        OUTSTANDING, {"action": "revoke_family", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")
    assert bearer(other["access"]).get(ME_URL).status_code == 200
    assert TokenFamily.objects.get(pk=RefreshToken(pair["refresh"])["fam"]).revoked_reason == "admin"


def test_family_admin_action(admin_client, user, obtain, bearer):
    pair = obtain(user)
    family_id = RefreshToken(pair["refresh"])["fam"]
    assert admin_client.get(FAMILIES, {"q": "alice"}).context["cl"].result_count == 1
    admin_client.post(FAMILIES, {"action": "revoke_family", "_selected_action": [family_id]})
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")


def test_staff_without_permission_cannot_revoke(client, user, user_factory, obtain, bearer):
    staff = user_factory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        Permission.objects.get(codename="view_outstandingtoken"),
    )
    client.force_login(staff)
    pair = obtain(user)
    token = OutstandingToken.objects.get(jti=RefreshToken(pair["refresh"])["jti"])
    client.post(OUTSTANDING, {"action": "revoke_family", "_selected_action": [token.pk]})
    assert bearer(pair["access"]).get(ME_URL).status_code == 200


def test_token_admin_pages_show_no_token_strings(admin_client, user, obtain, api_client):
    pair = obtain(user)
    new = rotated(api_client, pair)
    old = OutstandingToken.objects.get(jti=RefreshToken(pair["refresh"])["jti"])
    pages = [
        OUTSTANDING,
        f"{OUTSTANDING}{old.pk}/change/",
        BLACKLISTED,
        f"{BLACKLISTED}{old.blacklistedtoken.pk}/change/",
        FAMILIES,
        f"{FAMILIES}{RefreshToken(pair['refresh'])['fam']}/change/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        for raw in (pair["refresh"], new["refresh"]):
            # Not the whole token, nor its signature (the part that makes it a credential).
            assert raw.rsplit(".", 1)[1] not in content, page


@pytest.mark.parametrize("admin_path", [OUTSTANDING, BLACKLISTED, FAMILIES])
def test_token_admins_are_read_only(admin_client, user, obtain, api_client, admin_path):
    pair = obtain(user)
    rotated(api_client, pair)
    old = OutstandingToken.objects.get(jti=RefreshToken(pair["refresh"])["jti"])
    pk = {
        OUTSTANDING: old.pk,
        BLACKLISTED: old.blacklistedtoken.pk,
        FAMILIES: RefreshToken(pair["refresh"])["fam"],
    }[admin_path]
    counts = (OutstandingToken.objects.count(), BlacklistedToken.objects.count(), TokenFamily.objects.count())
    assert admin_client.get(f"{admin_path}add/").status_code == 403
    assert admin_client.post(f"{admin_path}add/", {"token": old.pk}).status_code == 403
    assert admin_client.post(f"{admin_path}{pk}/change/", {"jti": "x"}).status_code == 403
    assert admin_client.post(f"{admin_path}{pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = admin_client.get(admin_path)
    assert list(changelist.context["action_form"].fields["action"].choices)[1:] == [
        ("revoke_family", "Revoke the family (every token of that login)")
    ]
    assert (
        OutstandingToken.objects.count(),
        BlacklistedToken.objects.count(),
        TokenFamily.objects.count(),
    ) == counts
