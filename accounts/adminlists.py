"""Admin change lists that stay fast at a million rows: a bounded count and searches that use indexes.

Django's change list counts every matching row twice (the filtered and the
full count); on PostgreSQL that alone takes seconds at a million rows. Here
``show_full_result_count`` is off and the paginator counts at most
``ADMIN_COUNT_LIMIT`` rows (``SELECT COUNT(*) FROM (... LIMIT n)``), so a
list of any size costs one bounded count and one indexed page. Search by
user is a prefix of the canonical username (accounts.usernames), which a
``text_pattern_ops`` index answers, instead of ``LIKE '%term%'`` over a join.
"""

from __future__ import annotations

import uuid
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q

from accounts.usernames import username_canonical

# A search matching more users than this lists the rows of the first ones only.
USER_MATCH_LIMIT = 1000


class BoundedCountPaginator(Paginator):
    """A paginator that counts at most ADMIN_COUNT_LIMIT rows: past that, the last pages are not offered."""

    @cached_property
    def count(self) -> int:
        limit = settings.ADMIN_COUNT_LIMIT
        # Without ORDER BY: the bounded subquery needs no sort.
        return self.object_list.order_by()[:limit].count()


class SizedListMixin:
    """Change-list options of every admin list of users, sessions and tokens.

    ``user_path`` is the lookup path from the listed model to its user ("" for
    the user itself). ``exact_fields`` are matched whole (a jti, a family id).
    """

    paginator = BoundedCountPaginator
    show_full_result_count = False
    user_path = "user__"  # ends with "__"; "" for the user model itself
    exact_fields: tuple[str, ...] = ()
    uuid_fields: tuple[str, ...] = ()
    # The search box's promise, shown above the list.
    search_help_text = "A username or its beginning (any case), an exact email address, or an exact id."

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
