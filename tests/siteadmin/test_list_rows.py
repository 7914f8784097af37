"""Rows of the admin change lists at size: a fixed number of queries, cheap cells, the shown columns only."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Session
from api.models import TokenFamily
from api.seedload import seed_username

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
SESSIONS = "/admin/accounts/session/"
FAMILIES = "/admin/api/tokenfamily/"
OUTSTANDING = "/admin/token_blacklist/outstandingtoken/"
BLACKLISTED = "/admin/token_blacklist/blacklistedtoken/"
MODELS = {
    SESSIONS: Session,
    FAMILIES: TokenFamily,
    OUTSTANDING: OutstandingToken,
    BLACKLISTED: BlacklistedToken,
}
PER_PAGE = 50


def seed(users: int, logins: int) -> None:
    call_command(
        "seed_load", users=users, logins=logins, force=True, no_progress=True, stdout=StringIO()
    )


@pytest.fixture
def many_rows():
    # More than two pages of every list; user 3 ("seed-0000003") has three logins of each kind.
    seed(110, 330)


# The admin user, the bounded count, the page (and the users' group filter); a search
# by username adds the users it matched, except on the users' own list.
@pytest.mark.parametrize(
    ("url", "queries"), [(USERS, 4), (SESSIONS, 3), (FAMILIES, 3), (OUTSTANDING, 3), (BLACKLISTED, 3)]
)
@pytest.mark.parametrize("search", [None, seed_username(3)])
def test_a_page_of_many_rows_costs_a_fixed_number_of_queries(
    admin_client, django_assert_num_queries, many_rows, url, queries, search
):
    admin_client.get(url)  # the admin's session is read and refreshed once
    params = {"q": search} if search else {}
    with django_assert_num_queries(queries + bool(search and url != USERS)):
        response = admin_client.get(url, params)
    assert response.status_code == 200
    expected = PER_PAGE if not search else 1 if url == USERS else 6 if url == OUTSTANDING else 3
    assert len(response.context["cl"].result_list) == expected


@pytest.mark.parametrize("url", [USERS, *MODELS])
def test_a_page_holds_fifty_rows_and_the_next_the_older_ones(admin_client, many_rows, url):
    first = admin_client.get(url).context["cl"]
    second = admin_client.get(url, {"p": 2}).context["cl"]
    assert len(first.result_list) == len(second.result_list) == PER_PAGE
    assert not {row.pk for row in first.result_list} & {row.pk for row in second.result_list}


@pytest.mark.parametrize("url", [USERS, *MODELS])
def test_the_selection_box_is_djangos_own(admin_client, many_rows, url):
    response = admin_client.get(url)
    body = response.content.decode()
    model_admin = response.context["cl"].model_admin
    for row in response.context["cl"].result_list[:3]:
        assert admin.ModelAdmin.action_checkbox(model_admin, row) in body


@pytest.mark.parametrize(
    ("url", "model_field"),
    [
        (SESSIONS, "created_at"),
        (FAMILIES, "created_at"),
        (OUTSTANDING, "created_at"),
        (BLACKLISTED, "blacklisted_at"),
    ],
)
def test_dates_show_in_the_current_time_zone_as_iso_8601(admin_client, settings, many_rows, url, model_field):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: never the stored UTC by accident
    response = admin_client.get(url)
    row = response.context["cl"].result_list[0]
    shown = timezone.localtime(getattr(row, model_field)).strftime("%Y-%m-%d %H:%M:%S")
    assert shown in response.content.decode()
    assert shown != getattr(row, model_field).strftime("%Y-%m-%d %H:%M:%S")


def test_an_empty_date_shows_a_dash(admin_client, many_rows):
    family = TokenFamily.objects.order_by("-created_at").first()
    body = admin_client.get(FAMILIES).content.decode()
    cells = re.findall(r'<td class="field-revoked">([^<]*)</td>', body)
    assert len(cells) == PER_PAGE and set(cells) == {"-"}
    TokenFamily.objects.filter(pk=family.pk).update(revoked_at=family.created_at, revoked_reason="admin")
    body = admin_client.get(FAMILIES).content.decode()
    assert timezone.localtime(family.created_at).strftime("%Y-%m-%d %H:%M:%S") in re.findall(
        r'<td class="field-revoked">([^<]*)</td>', body
    )


@pytest.mark.parametrize(
    ("url", "column", "model_field"),
    [
        (SESSIONS, "last_active", "last_activity"),
        (FAMILIES, "expires", "expires_at"),
        (OUTSTANDING, "expires", "expires_at"),
        (BLACKLISTED, "token_expires", "token__expires_at"),
    ],
)
def test_a_date_column_sorts_by_its_field(admin_client, url, column, model_field):
    seed(3, 6)
    # Spread the expiries so that they sort apart from the creation order.
    for step, pk in enumerate(MODELS[url].objects.order_by("?").values_list("pk", flat=True)):
        instant = timezone.now() + timedelta(hours=step)
        field = model_field.removeprefix("token__")
        rows = OutstandingToken.objects.filter(blacklistedtoken=pk) if url == BLACKLISTED else None
        (rows if rows is not None else MODELS[url].objects.filter(pk=pk)).update(**{field: instant})
    changelist = admin_client.get(url).context["cl"]
    index = list(changelist.list_display).index(column)
    for order, reverse in ((str(index), False), (f"-{index}", True)):
        listed = admin_client.get(url, {"o": order}).context["cl"].result_list
        values = [_path(row, model_field) for row in listed]
        assert len(values) == MODELS[url].objects.count()
        assert values == sorted(values, reverse=reverse)


def _path(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(
    ("url", "column"),
    [(SESSIONS, '"session_data"'), (OUTSTANDING, '"token"'), (BLACKLISTED, '"token"')],
)
def test_the_lists_never_read_the_stored_credentials(admin_client, many_rows, url, column):
    for params in ({}, {"q": seed_username(3)}):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url, params).status_code == 200
        # The page's own query, the one in the list's order.
        table = MODELS[url]._meta.db_table
        pages = [q["sql"] for q in captured if f'FROM "{table}"' in q["sql"] and "ORDER BY" in q["sql"]]
        assert len(pages) == 1
        assert f".{column}" not in pages[0]
