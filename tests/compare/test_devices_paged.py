"""/devices/ and /accounts/sessions/ for a user with many live logins: pages, a fixed query count."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import Session
from api.models import TokenFamily
from api.seedload import seed_username

pytestmark = pytest.mark.django_db


def seeded_user(logins: int):
    call_command(
        "seed_load", "--users", "1", "--logins", str(logins), "--force", "--no-progress", stdout=StringIO()
    )
    return get_user_model().objects.get(username=seed_username(0))


@pytest.fixture
def page_size(settings):
    settings.LOGIN_LIST_PAGE_SIZE = 10
    return 10


def _rows(response, key):
    return list(response.context[key])


@pytest.mark.parametrize("url", ["/devices/", "/accounts/sessions/"])
def test_query_count_does_not_grow_with_the_logins(client, django_assert_num_queries, page_size, url):
    user = seeded_user(3)
    client.force_login(user)
    client.get(url)
    with django_assert_num_queries(4 if url == "/devices/" else 2):
        assert client.get(url).status_code == 200
    seeded_user(45)
    with django_assert_num_queries(4 if url == "/devices/" else 2):
        response = client.get(url, {"page": 2})
    assert response.status_code == 200
    assert len(_rows(response, "sessions")) == page_size


def test_devices_pages_sessions_and_jwt_logins_separately(client, page_size):
    user = seeded_user(25)
    client.force_login(user)  # 26 sessions, 25 JWT logins
    response = client.get("/devices/", {"page": 3, "jwt_page": 2})
    sessions, families = response.context["sessions"], response.context["families"]
    assert sessions.number == 3 and len(sessions) == 6 and sessions.paginator.count == 26
    assert families.number == 2 and len(families) == 10 and families.paginator.count == 25
    content = response.content.decode()
    assert "Page 3 of 3 (26 in all)" in content and "Page 2 of 3 (25 in all)" in content
    assert "?page=2&amp;jwt_page=2" in content and "?jwt_page=3&amp;page=3" in content
    # Every live login appears on exactly one page, newest first.
    seen = []
    for number in (1, 2, 3):
        seen += [f.pk for f in client.get("/devices/", {"jwt_page": number}).context["families"]]
    assert len(seen) == len(set(seen)) == 25
    expected = list(
        TokenFamily.objects.filter(user=user).order_by("-created_at").values_list("pk", flat=True)
    )
    assert seen == expected


def test_sessions_page_lists_every_session_once_most_active_first(client, page_size):
    user = seeded_user(24)
    client.force_login(user)
    seen = []
    for number in (1, 2, 3):
        response = client.get("/accounts/sessions/", {"page": number})
        seen += [s.public_id for s in response.context["sessions"]]
    assert len(seen) == len(set(seen)) == 25
    expected = list(
        Session.objects.filter(user=user).order_by("-last_activity").values_list("public_id", flat=True)
    )
    assert seen == expected


@pytest.mark.parametrize("url", ["/devices/", "/accounts/sessions/"])
@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999999999999", "", "1.5", "\x00"])
def test_a_bad_page_number_answers_a_page_never_an_error(client, page_size, url, page):
    user = seeded_user(12)
    client.force_login(user)
    response = client.get(url, {"page": page, "jwt_page": page})
    assert response.status_code == 200
    assert len(response.context["sessions"]) in (3, 10)


def test_no_pager_when_one_page_holds_every_login(client, page_size):
    client.force_login(seeded_user(2))
    content = client.get("/devices/").content.decode()
    assert "pager-page" not in content and "pager-jwt_page" not in content
