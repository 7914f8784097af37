"""Admin change lists at size: a bounded count, indexed searches (username prefix, address, id)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.logins import token_pair_issue
from api.models import TokenFamily
from api.seedload import seed_username

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
SESSIONS = "/admin/accounts/session/"
FAMILIES = "/admin/api/tokenfamily/"
OUTSTANDING = "/admin/token_blacklist/outstandingtoken/"
BLACKLISTED = "/admin/token_blacklist/blacklistedtoken/"
LISTS = (USERS, SESSIONS, FAMILIES, OUTSTANDING, BLACKLISTED)


def seed(users: int, logins: int) -> None:
    call_command(
        "seed_load",
        "--users",
        str(users),
        "--logins",
        str(logins),
        "--force",
        "--no-progress",
        stdout=StringIO(),
    )


def queries_of(client, url, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("url", LISTS)
def test_query_count_does_not_grow_with_the_rows(admin_client, url):
    seed(3, 3)
    few, _ = queries_of(admin_client, url)
    seed(12, 40)
    many, response = queries_of(admin_client, url)
    assert many == few
    assert response.context["cl"].show_full_result_count is False


@pytest.mark.parametrize("url", LISTS)
def test_the_count_stops_at_the_limit(admin_client, settings, url):
    settings.ADMIN_COUNT_LIMIT = 7
    seed(10, 10)
    response = admin_client.get(url)
    assert response.context["cl"].result_count == 7
    assert response.context["cl"].paginator.count == 7


@pytest.mark.parametrize("url", LISTS)
def test_the_count_query_is_bounded(admin_client, settings, url):
    settings.ADMIN_COUNT_LIMIT = 7
    seed(3, 3)
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(url)
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 7" in sql.upper() for sql in counts)


@pytest.mark.parametrize(
    ("url", "expected"),
    [(USERS, 1), (SESSIONS, 2), (FAMILIES, 2), (OUTSTANDING, 4), (BLACKLISTED, 2)],
)
def test_search_by_username_prefix_any_case(admin_client, url, expected):
    seed(12, 24)  # two logins per user
    for term in (seed_username(3), seed_username(3).upper(), f"  {seed_username(3)} "):
        response = admin_client.get(url, {"q": term})
        assert response.status_code == 200
        assert response.context["cl"].result_count == expected
    # "seed-000001" is the prefix of users 10 and 11.
    assert admin_client.get(url, {"q": "seed-000001"}).context["cl"].result_count == 2 * expected


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("term", ["%", "_", "eed-", "zzz", "' OR 1=1 --", "a" * 5000])
def test_search_never_matches_by_wildcard_or_middle_and_never_fails(admin_client, url, term):
    seed(3, 3)
    response = admin_client.get(url, {"q": term})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("url", LISTS)
def test_search_with_a_nul_byte_answers(admin_client, url):
    seed(3, 3)
    response = admin_client.get(url, {"q": "seed-\x00"})
    assert response.status_code == 200
    assert response.context["cl"].result_count in (0, response.context["cl"].paginator.count)


def test_search_by_exact_address(admin_client, user):
    token_pair_issue(user=user)
    assert admin_client.get(FAMILIES, {"q": "ALICE@example.com"}).context["cl"].result_count == 1
    assert admin_client.get(FAMILIES, {"q": "alice@example"}).context["cl"].result_count == 0
    assert admin_client.get(USERS, {"q": "alice@example.com"}).context["cl"].result_count == 1


def test_search_by_family_id_and_jti(admin_client):
    seed(2, 2)
    family = TokenFamily.objects.first()
    token = OutstandingToken.objects.get(jti=family.current_jti)
    assert admin_client.get(FAMILIES, {"q": str(family.pk)}).context["cl"].result_count == 1
    assert admin_client.get(OUTSTANDING, {"q": str(family.pk)}).context["cl"].result_count == 2
    assert admin_client.get(BLACKLISTED, {"q": str(family.pk)}).context["cl"].result_count == 1
    assert admin_client.get(OUTSTANDING, {"q": token.jti}).context["cl"].result_count == 1
    rotated = BlacklistedToken.objects.filter(token__family_link__family=family).get().token
    assert admin_client.get(BLACKLISTED, {"q": rotated.jti}).context["cl"].result_count == 1
    # An id of nothing, and a malformed one, find nothing.
    assert (
        admin_client.get(FAMILIES, {"q": "00000000-0000-0000-0000-000000000000"}).context["cl"].result_count
        == 0
    )
    assert admin_client.get(OUTSTANDING, {"q": "not-a-jti"}).context["cl"].result_count == 0


def test_second_page_lists_older_rows(admin_client, settings):
    seed(2, 120)
    first = admin_client.get(OUTSTANDING).context["cl"].result_list
    second = admin_client.get(OUTSTANDING, {"p": 2}).context["cl"].result_list
    assert len(first) == 50 and len(second) == 50
    assert min(t.pk for t in first) > max(t.pk for t in second)
