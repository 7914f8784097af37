"""The admin in a real browser: the revoke button styled as an object tool, a token-family list in 1280 px."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from e2e.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_page(new_page, site, django_user_model):
    django_user_model.objects.create_superuser(username="root", email="root@example.com", password=PASSWORD)
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{site}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/admin/")
    return page


def test_the_revoke_button_looks_like_the_tools_beside_it(new_page, site, user, django_user_model):
    page = _admin_page(new_page, site, django_user_model)
    page.goto(f"{site}/admin/accounts/user/{user.pk}/change/")
    button = page.locator("[data-testid=revoke-all]")
    history = page.locator(".object-tools a.historylink")
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).textTransform," \
            " getComputedStyle(e).borderRadius]"
    assert button.evaluate(style) == history.evaluate(style)
    assert abs(button.bounding_box()["y"] - history.bounding_box()["y"]) < 4  # on one line


def test_the_token_family_list_fits_a_1280_px_window(new_page, site, user, django_user_model):
    from api.models import TokenFamily

    now = timezone.now()
    for _ in range(5):
        TokenFamily.objects.create(
            id=uuid.uuid4(), user=user, transport="cookie", ip="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            user_agent="Mozilla/5.0 " + "x" * 300, expires_at=now + timedelta(days=1),
            revoked_at=now, revoked_reason="reuse",
        )
    page = _admin_page(new_page, site, django_user_model)
    page.goto(f"{site}/admin/api/tokenfamily/")
    assert page.locator("#result_list tbody tr").count() == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Every column is in view: the table is no wider than its box (nothing hidden behind a scroll
    # bar, nothing under the filters beside it).
    table, box = page.evaluate(
        "['#result_list', '#changelist .results']"
        ".map(s => document.querySelector(s).getBoundingClientRect().right)"
    )
    assert table <= box <= 1280, (table, box)
