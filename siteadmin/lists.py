"""Admin change lists that stay fast at a million rows: a bounded count and searches that use indexes.

Django's change list counts every matching row twice (the filtered and the
full count); on PostgreSQL that alone takes seconds at a million rows. Here
``show_full_result_count`` is off and the paginator counts at most
``ADMIN_COUNT_LIMIT`` rows (``SELECT COUNT(*) FROM (... LIMIT n)``), so a
list of any size costs one bounded count and one indexed page. Search by
user is a prefix of the canonical username (usernames.username_canonical), which a
``text_pattern_ops`` index answers, instead of ``LIKE '%term%'`` over a join.
What is left is rendering the page's rows, so each cell costs little: a
plain selection box, dates in one ``strftime``, the columns' fields only.
"""

from __future__ import annotations

import uuid
from functools import cached_property

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from usernames import username_canonical

# A search matching more users than this lists the rows of the first ones only.
USER_MATCH_LIMIT = 1000


def datetime_column(path: str, description: str):
    """Return a list_display method showing the datetime at ``path`` as local ISO 8601, sortable by it."""
    # Django's localized format ("Dec. 6, 2026, 1:05 a.m.") goes through the
    # translation catalog for every cell; a page of 100 rows has 300 of them.
    # One strftime gives the same instant, unambiguous and in sort order.
    parts = path.split("__")

    @admin.display(description=description, ordering=path)
    def column(modeladmin, obj) -> str | None:
        value = obj
        for part in parts:
            value = getattr(value, part)
        return None if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")

    return column


class BoundedCountPaginator(Paginator):
    """A paginator that counts at most ADMIN_COUNT_LIMIT rows: past that, the last pages are not offered."""

    @cached_property
    def count(self) -> int:
        limit = settings.ADMIN_COUNT_LIMIT
        # Without ORDER BY and without the columns' annotations: the bounded
        # subquery needs neither a sort nor a subquery per row.
        return self.object_list.order_by().values("pk")[:limit].count()


class SizedListMixin:
    """Change-list options of every admin list of users, sessions and tokens.

    ``user_path`` is the lookup path from the listed model to its user ("" for
    the user itself). ``exact_fields`` are matched whole (a jti, a family id).
    """

    paginator = BoundedCountPaginator
    show_full_result_count = False
    # Once the count is bounded and the page indexed, the time of a page is
    # Django rendering its cells (a link, escaping and a lookup for each):
    # 50 rows hold it to half of Django's 100, and a search narrows further.
    list_per_page = 50
    user_path = "user__"  # ends with "__"; "" for the user model itself
    exact_fields: tuple[str, ...] = ()
    uuid_fields: tuple[str, ...] = ()
    # The search box's promise, shown above the list.
    search_help_text = "A username or its beginning (any case), an exact email address, or an exact id."

    def action_checkbox(self, obj):
        """Return the row's selection box: the markup of Django's, without a template render per row."""
        # Django renders a CheckboxInput through the form renderer for every
        # row, the largest single cost of a page of 100 rows.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def get_search_results(self, request, queryset, search_term):
        # One kind of match per term, each answered by an index: an id, an
        # address, or a username prefix. Every path is to-one: no duplicates.
        term = search_term.strip()
        if not term:
            return queryset, False
        if "\x00" in term:
            # No stored value holds a NUL, and PostgreSQL refuses it in a query.
            return queryset.none(), False
        try:
            as_uuid = uuid.UUID(term)
        except ValueError:
            as_uuid = None
        if as_uuid is not None and (self.uuid_fields or self.exact_fields):
            match = Q()
            for field in self.uuid_fields:
                match |= Q(**{field: as_uuid})
            for field in self.exact_fields:
                match |= Q(**{field: term}) | Q(**{field: as_uuid.hex})
            return queryset.filter(match), False
        users = get_user_model().objects.all()
        if "@" in term:
            users = users.filter(email__iexact=term)
        else:
            users = users.filter(username_key__startswith=username_canonical(term))
        if not self.user_path:
            return queryset & users, False
        # The users first (a handful, by index), then their rows by the user index.
        user_ids = list(users.values_list("pk", flat=True)[:USER_MATCH_LIMIT])
        return queryset.filter(**{f"{self.user_path}in": user_ids}), False
