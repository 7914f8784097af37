"""Count what a piece of work costs: database statements (reads, writes by table), cache calls, near reads.

``meter()`` wraps the default database connection with
``connection.execute_wrapper`` and this thread's cache backends with counting
methods, for the duration of a ``with`` block; the statements a cache backend
makes itself count as its cache call. ``LoginMeterMiddleware``
meters every successful login and keeps the figures of the last login of each
kind in the shared cache, where the comparison page reads them.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse

from accounts.nearcache import near_hits
from accounts.sharedcache import shared_cache

logger = logging.getLogger(__name__)

# The public methods through which every cache read and write passes.
CACHE_METHODS = (
    "get", "get_many", "set", "set_many", "add", "delete", "delete_many",
    "incr", "decr", "touch", "has_key", "get_or_set", "clear",
)  # fmt: skip
_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?(\w+)', re.IGNORECASE)
_READ = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)

# Kinds of login by URL name: the session form, the JWT cookie and bearer logins.
LOGIN_VIEWS = {"accounts:login": "session", "api:cookie-login": "jwt-cookie", "api:token": "jwt-bearer"}
LOGIN_CACHE_KEY = "compare:login-cost:{kind}"
LOGIN_CACHE_SECONDS = 30 * 24 * 60 * 60


@dataclass
class Meter:
    """What was counted inside one ``meter()`` block."""

    reads: int = 0
    writes: int = 0
    other: int = 0
    written: Counter = field(default_factory=Counter)  # statements per table written
    cache_calls: Counter = field(default_factory=Counter)  # calls per cache method
    # Reads a near cache answered in the process (services mode, accounts.nearcache): no round trip.
    near_reads: int = 0
    depth: int = 0  # > 0 while a counted cache call runs

    @property
    def queries(self) -> int:
        return self.reads + self.writes + self.other

    @property
    def cache_total(self) -> int:
        return sum(self.cache_calls.values())

    def as_dict(self) -> dict:
        return {
            "queries": self.queries,
            "reads": self.reads,
            "writes": self.writes,
            "written": dict(sorted(self.written.items())),
            "cache_calls": self.cache_total,
            "cache": dict(sorted(self.cache_calls.items())),
            "near_reads": self.near_reads,
        }

    def _db(self, execute, sql, params, many, context):
        if self.depth > 0:
            # A cache call's own statement (the shared cache without Redis is a
            # table): counted as that cache call, as a Redis round trip is, so
            # a login reads the same in both modes.
            return execute(sql, params, many, context)
        text = sql if isinstance(sql, str) else str(sql)
        match = _WRITE.match(text)
        if match:
            self.writes += 1
            self.written[match.group(2).lower()] += 1
        elif _READ.match(text):
            self.reads += 1
        else:
            self.other += 1  # transaction control: BEGIN, SAVEPOINT, RELEASE
        return execute(sql, params, many, context)


def _counting(meter: Meter, name: str, method: Callable) -> Callable:
    # One call as the caller made it: a backend's get_many that loops over its
    # own get() (the per-process cache does) is one call, as it is one Redis
    # round trip in services mode.
    def counted(*args, **kwargs):
        if meter.depth == 0:
            meter.cache_calls[name] += 1
        meter.depth += 1
        try:
            return method(*args, **kwargs)
        finally:
            meter.depth -= 1

    return counted


@contextmanager
def meter() -> Iterator[Meter]:
    """Count the database statements and cache calls made by this thread inside the block."""
    result = Meter()
    # Cache backends are per thread (django.core.cache.caches), so counting
    # methods set on this thread's instances see only this thread's calls.
    backends = {id(backend): backend for backend in (caches[alias] for alias in settings.CACHES)}
    patched: list[tuple[object, str]] = []
    near_before = near_hits()
    try:
        for backend in backends.values():
            for name in CACHE_METHODS:
                original = getattr(backend, name, None)
                if original is not None and name not in vars(backend):
                    setattr(backend, name, _counting(result, name, original))
                    patched.append((backend, name))
        with connection.execute_wrapper(result._db):
            yield result
    finally:
        for backend, name in patched:
            delattr(backend, name)
        result.near_reads = near_hits() - near_before


def login_cost_record(*, kind: str, cost: Meter) -> None:
    """Keep the cost of the last successful login of ``kind`` (shared by every worker through the cache)."""
    try:
        shared_cache().set(
            LOGIN_CACHE_KEY.format(kind=kind), {**cost.as_dict(), "at": time.time()}, LOGIN_CACHE_SECONDS
        )
    except Exception:  # the figure is for display: a cache outage must not fail the login
        logger.warning("could not record the cost of a %s login", kind, exc_info=True)


def login_costs() -> dict[str, dict]:
    """Return the recorded cost of the last login of each kind (kinds never seen are absent)."""
    keys = {LOGIN_CACHE_KEY.format(kind=kind): kind for kind in LOGIN_VIEWS.values()}
    try:
        found = shared_cache().get_many(list(keys))
    except Exception:
        logger.warning("could not read the recorded login costs", exc_info=True)
        return {}
    return {keys[key]: value for key, value in found.items() if isinstance(value, dict)}


def _login_kind(request: HttpRequest, response: HttpResponse) -> str | None:
    match = getattr(request, "resolver_match", None)
    kind = LOGIN_VIEWS.get(match.view_name) if match else None
    if kind is None:
        return None
    if kind == "session":
        # The form login redirects on success and renders the form again on failure.
        user = getattr(request, "user", None)
        return kind if response.status_code == 302 and user is not None and user.is_authenticated else None
    return kind if response.status_code == 200 else None


class LoginMeterMiddleware:
    """Meter each login POST from the outside, so the session middleware's INSERT is counted too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not request.path.startswith(("/accounts/login/", "/api/auth/")):
            return self.get_response(request)
        with meter() as cost:
            response = self.get_response(request)
        kind = _login_kind(request, response)
        if kind is not None:
            login_cost_record(kind=kind, cost=cost)
        return response
