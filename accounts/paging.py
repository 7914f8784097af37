"""One page of a user's logins: the sessions page and the device list show LOGIN_LIST_PAGE_SIZE at a time."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def login_page(request: HttpRequest, queryset, *, param: str = "page") -> Page:
    """Return the page of ``queryset`` that the query string's ``param`` names (first or last if invalid)."""
    # get_page(): a missing, malformed or too large number gives a page, never an error.
    return Paginator(queryset, settings.LOGIN_LIST_PAGE_SIZE).get_page(request.GET.get(param))
