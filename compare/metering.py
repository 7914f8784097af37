"""Count what a piece of work costs: database statements (reads, writes by table), cache calls, near reads.

Nothing here runs unless asked. ``meter()`` counts for the duration of a
``with`` block: the default database connection through
``connection.execute_wrapper``, and this thread's cache backends through
counted stand-ins; the statements a cache backend makes itself count as its
cache call. ``login_metered`` wraps the three login views only (compare.hooks)
and keeps the figures of the last successful login of each kind in the shared
cache, where the comparison page reads them.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished
from django.db import connection
from django.http import HttpRequest, HttpResponse

from authcache.near import near_hits
from authcache.shared import shared_cache

logger = logging.getLogger(__name__)

# The public methods through which every cache read and write passes.
CACHE_METHODS = (
    "get", "get_many", "set", "set_many", "add", "delete", "delete_many",
    "incr", "decr", "touch", "has_key", "get_or_set", "clear",
)  # fmt: skip
_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?(\w+)', re.IGNORECASE)
_READ = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)

# Kinds of login by URL name: the session form, the JWT cookie and bearer logins (compare.hooks meters them).
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
    # Reads a near cache answered in the process (services mode, authcache.near): no round trip.
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

    def cache_call(self, name: str, method: Callable, args: tuple, kwargs: dict):
        """Return ``method(*args, **kwargs)``, counted as one call of ``name`` unless inside another."""
        # One call as the caller made it: a backend's get_many that loops over
        # its own get() (the per-process cache does) is one call, as it is one
        # Redis round trip in services mode.
        if self.depth == 0:
            self.cache_calls[name] += 1
        self.depth += 1
        try:
            return method(*args, **kwargs)
        finally:
            self.depth -= 1

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


class CountedCache:
    """A cache backend seen through a meter: each call made through it counts once, whatever it calls inside.

    Set in place of this thread's backends for a ``meter()`` block only; the
    backend object itself is left as it is. Like ``wrapt.ObjectProxy`` it
    reports the wrapped backend's class, so code that chooses a path by the
    backend's type takes the same path when metered.
    """

    def __init__(self, backend, cost: Meter) -> None:
        self.backend = backend
        self.cost = cost

    @property
    def __class__(self):
        return type(self.backend)

    def __getattr__(self, name: str):
        return getattr(self.backend, name)

    def __contains__(self, key) -> bool:
        return self.has_key(key)

    def _call(self, name: str, args: tuple, kwargs: dict):
        return self.cost.cache_call(name, getattr(self.backend, name), args, kwargs)


def _counted(name: str) -> Callable:
    def call(self, *args, **kwargs):
        return self._call(name, args, kwargs)

    call.__name__ = name
    return call


for _name in CACHE_METHODS:
    setattr(CountedCache, _name, _counted(_name))


@contextmanager
def meter() -> Iterator[Meter]:
    """Count the database statements and cache calls made by this thread inside the block."""
    result = Meter()
    # Cache backends are per thread (django.core.cache.caches): the counted
    # stand-ins set here are seen by this thread's calls only.
    backends = {alias: caches[alias] for alias in settings.CACHES}
    near_before = near_hits()
    try:
        for alias, backend in backends.items():
            caches[alias] = CountedCache(backend, result)
        with connection.execute_wrapper(result._db):
            yield result
    finally:
        for alias, backend in backends.items():
            caches[alias] = backend
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


def _login_succeeded(kind: str, request: HttpRequest, response: HttpResponse) -> bool:
    if kind == "session":
        # The form login redirects on success and renders the form again on failure.
        user = getattr(request, "user", None)
        return response.status_code == 302 and user is not None and user.is_authenticated
    return response.status_code == 200


class _LoginMetering:
    """One metered login, from its view to the end of its response (the session row is written last).

    Django sends ``request_finished`` when the server closes the response;
    the receiver is connected for this login only and acts in its thread only.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.thread = threading.get_ident()
        self.uid = f"{__name__}.login.{id(self)}"
        self.stack = ExitStack()
        self.cost = self.stack.enter_context(meter())

    def end(self, *, record: bool) -> None:
        request_finished.disconnect(dispatch_uid=self.uid)
        self.stack.close()
        if getattr(_open, "login", None) is self:
            _open.login = None
        if record:
            login_cost_record(kind=self.kind, cost=self.cost)

    def wait_for_response_end(self) -> None:
        _open.login = self
        request_finished.connect(self.on_finished, weak=False, dispatch_uid=self.uid)

    def on_finished(self, **kwargs) -> None:
        if threading.get_ident() == self.thread:
            self.end(record=True)


# The metered login of this thread whose response is not closed yet.
_open = threading.local()


def login_metered(view: Callable, *, kind: str) -> Callable:
    """Return ``view`` metered: the cost of each successful login it answers is kept for the home page."""

    @functools.wraps(view)
    def metered(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        stale = getattr(_open, "login", None)
        if stale is not None:  # a response no server closed: its figures are incomplete
            stale.end(record=False)
        login = _LoginMetering(kind)
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            login.end(record=False)
            raise
        if _login_succeeded(kind, request, response):
            login.wait_for_response_end()
        else:
            login.end(record=False)
        return response

    return metered
