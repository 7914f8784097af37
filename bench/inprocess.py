"""The in-process half of `make bench`: every mechanism through Django's full stack, no network.

Rounds are interleaved (every scenario once per round, in a rotating order),
so drift of the machine affects all alike; the tables give the median of the
per-round means, the ratio to the session baseline, and the database queries
of one warm request.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Scenario:
    name: str
    run: Callable[[], None]  # one request; raises if the answer is wrong
    per_round: int
    # Entered around each batch of requests (a settings override), outside the timing.
    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    samples: list[float] = field(default_factory=list)  # seconds per request, one per round
    queries: int | None = None
    cache_ops: int | None = None
    near_reads: int | None = None
    note: str = ""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    # whitenoise warns that STATIC_ROOT was never collected; irrelevant here.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def _expect(response, status: int, what: str) -> None:
    if response.status_code != status:
        body = response.content[:300].decode(errors="replace")
        raise SystemExit(f"bench: {what} answered {response.status_code}, expected {status}: {body}")


def _build(args) -> tuple[list[Scenario], list[Scenario]]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    password = "bench password, long enough 42"
    user = get_user_model().objects.create_user(
        username="bench", email="bench@example.com", password=password
    )
    credentials = {"username": user.username, "password": password}

    # Session: a real form login, then the sessionid cookie.
    session = Client()
    _expect(session.post("/accounts/login/", credentials, secure=True), 302, "form login")

    # JWT bearer: a token pair from the JSON endpoint.
    bearer = Client()
    obtained = bearer.post("/api/auth/token/", credentials, content_type="application/json", secure=True)
    _expect(obtained, 200, "token obtain")
    auth_header = {"HTTP_AUTHORIZATION": f"Bearer {obtained.json()['access']}"}

    # JWT cookie: the access_token cookie set by the cookie login.
    cookie = Client()
    _expect(
        cookie.post("/api/auth/cookie/login/", credentials, content_type="application/json", secure=True),
        200,
        "cookie login",
    )

    def me(client: Client, expected_auth: str, **extra) -> Callable[[], None]:
        def run() -> None:
            response = client.get("/api/me/", secure=True, **extra)
            if response.status_code != 200 or response.json().get("auth") != expected_auth:
                _expect(response, 200, f"GET /api/me/ ({expected_auth})")
                got = response.json().get("auth")
                raise SystemExit(f"bench: /api/me/ reported {got!r}, not {expected_auth!r}")

        return run

    has_stateless = hasattr(settings, "JWT_STATELESS")
    n = args.requests
    requests = [
        Scenario("session cookie", me(session, "session"), n, note="baseline"),
        Scenario("JWT bearer", me(bearer, "jwt-bearer", **auth_header), n, note="revocation check"),
        Scenario("JWT cookie", me(cookie, "jwt-cookie"), n, note="revocation check"),
    ]
    if has_stateless:
        requests.append(
            Scenario(
                "JWT bearer, stateless",
                me(bearer, "jwt-bearer", **auth_header),
                n,
                note="JWT_STATELESS, no revocation",
                context=lambda: override_settings(JWT_STATELESS=True),
            )
        )

    login_client = Client()

    def form_login() -> None:
        login_client.cookies.clear()
        _expect(login_client.post("/accounts/login/", credentials, secure=True), 302, "form login")

    def token_obtain() -> None:
        _expect(
            login_client.post("/api/auth/token/", credentials, content_type="application/json", secure=True),
            200,
            "token obtain",
        )

    logins = [
        Scenario("form login (session)", form_login, args.logins, note="baseline"),
        Scenario("token obtain (JWT pair)", token_obtain, args.logins),
    ]

    auth = _auth_scenarios(
        user=user,
        session_key=session.cookies[settings.SESSION_COOKIE_NAME].value,
        access_cookie=cookie.cookies[settings.JWT_ACCESS_COOKIE].value,
        auth_header=auth_header,
        n=n,
        has_stateless=has_stateless,
    )
    return requests, logins, auth


def _auth_scenarios(*, user, session_key, access_cookie, auth_header, n, has_stateless) -> list[Scenario]:
    """Return scenarios that run only the authentication step of each mechanism, no view.

    What /api/me/ costs besides authentication (routing, middleware, the view,
    JSON rendering) is the same for every mechanism; this isolates the part
    that differs. A stateless JWT needs no database at all here.
    """
    from django.conf import settings
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory, override_settings
    from rest_framework.request import Request

    from accounts.middleware import AuthenticationMiddleware
    from api.authentication import JWTBearerAuthentication, JWTCookieAuthentication, SessionAuthentication

    factory = RequestFactory()

    def authenticated(authenticator, expected_pk, make_request) -> Callable[[], None]:
        def run() -> None:
            result = authenticator.authenticate(Request(make_request()))
            if result is None or str(result[0].pk) != str(expected_pk):
                raise SystemExit(
                    f"bench: {type(authenticator).__name__} did not authenticate the user: {result!r}"
                )

        return run

    def session_request():
        request = factory.get("/api/me/", secure=True)
        request.COOKIES[settings.SESSION_COOKIE_NAME] = session_key
        SessionMiddleware(lambda r: None).process_request(request)
        AuthenticationMiddleware(lambda r: None).process_request(request)
        return request

    def bearer_request():
        return factory.get("/api/me/", secure=True, **auth_header)

    def cookie_request():
        request = factory.get("/api/me/", secure=True)
        request.COOKIES[settings.JWT_ACCESS_COOKIE] = access_cookie
        return request

    scenarios = [
        Scenario(
            "session", authenticated(SessionAuthentication(), user.pk, session_request), n, note="baseline"
        ),
        Scenario(
            "JWT bearer",
            authenticated(JWTBearerAuthentication(), user.pk, bearer_request),
            n,
            note="verify + revocation check + user",
        ),
        Scenario(
            "JWT cookie",
            authenticated(JWTCookieAuthentication(), user.pk, cookie_request),
            n,
            note="verify + revocation check + user",
        ),
    ]
    if has_stateless:
        scenarios.append(
            Scenario(
                "JWT bearer, stateless",
                authenticated(JWTBearerAuthentication(), user.pk, bearer_request),
                n,
                note="verify only: no database, no cache",
                context=lambda: override_settings(JWT_STATELESS=True),
            )
        )
    if has_stateless:
        # Every row above presents one token again and again, so its signature
        # is checked once (the verified-token cache, api/keyring.py); this row
        # pays the full check every time, as a token's first request does.
        scenarios.append(
            Scenario(
                "JWT stateless, full verify",
                authenticated(JWTBearerAuthentication(), user.pk, bearer_request),
                n,
                note="as above, signature checked every time",
                context=lambda: override_settings(JWT_STATELESS=True, JWT_VERIFIED_CACHE_SIZE=0),
            )
        )
    from authcache.live import cache_shared, strategy

    if not cache_shared():
        # The embedded default's cross-process check: one stat() of the
        # revocation log per cache read (authcache.embedded).
        scenarios.append(
            Scenario("revocation log stat()", strategy().position, n,
                     note="embedded cross-process check, included above")
        )  # fmt: skip
    return scenarios


def _count_queries(scenarios: list[Scenario]) -> None:
    """Record the database queries, cache calls and near-cache reads of one warm request of each scenario.

    Counted by the comparison page's meter (compare.metering): one cache call
    per call its caller made (one Redis round trip), and a statement the
    shared cache makes itself counts as that cache call, not as a query. A
    read the process's near cache answered (services mode) is no round trip.
    """
    from compare.metering import meter

    for s in scenarios:
        with s.context():
            # Warm: caches filled, last-activity write done; in services mode
            # the read after the fill is the one that fills the near cache.
            s.run()
            s.run()
            with meter() as cost:
                s.run()
        s.queries = cost.queries
        s.cache_ops = cost.cache_total
        s.near_reads = cost.near_reads


def _measure(scenarios: list[Scenario], rounds: int) -> None:
    for r in range(rounds):
        shift = r % len(scenarios)
        for s in scenarios[shift:] + scenarios[:shift]:
            with s.context():
                s.run()  # first request after entering the context: not timed
                start = time.perf_counter()
                for _ in range(s.per_round):
                    s.run()
                s.samples.append((time.perf_counter() - start) / s.per_round)


def _report(title: str, scenarios: list[Scenario], unit: str) -> None:
    scale = {"us": 1e6, "ms": 1e3}[unit]
    base = statistics.median(scenarios[0].samples)
    print(f"\n{title}")
    head = f"{'median ' + unit:>10} {'spread':>14} {'ratio':>7} {'queries':>8} {'cache':>6} {'near':>5}"
    print(f"  {'scenario':<26} {head}  note")
    for s in scenarios:
        med = statistics.median(s.samples)
        spread = f"{min(s.samples) * scale:.0f}-{max(s.samples) * scale:.0f}"
        row = (
            f"{med * scale:>10.1f} {spread:>14} {med / base:>6.2f}x {s.queries!s:>8} {s.cache_ops!s:>6}"
            f" {s.near_reads!s:>5}"
        )
        print(f"  {s.name:<26} {row}  {s.note}")


def run(args) -> None:
    """Build the scenarios in a test database, time them in rounds and print the tables."""
    _setup_django()
    import django
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment(debug=False)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        requests, logins, auth = _build(args)
        _count_queries(requests + logins + auth)
        _measure(requests, args.rounds)
        _measure(auth, args.rounds)
        _measure(logins, args.login_rounds)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()

    mode = "services (PostgreSQL + Redis)" if settings.REDIS_URL else "embedded (SQLite + per-process cache)"
    print(
        f"authdemo bench: {mode}; Python {platform.python_version()}, Django {django.get_version()}, "
        f"{settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}, {settings.SIMPLE_JWT['ALGORITHM']}"
    )
    print(
        f"median of {args.rounds} interleaved rounds x {args.requests} requests; "
        "queries / cache / near = database queries / cache calls (round trips) / reads the"
        " process's near cache answered, of one warm request"
    )
    _report("GET /api/me/, per request", requests, "us")
    _report("Authentication step alone (the authentication class, no view), per request", auth, "us")
    print(
        f"\nmedian of {args.login_rounds} interleaved rounds x {args.logins} logins "
        "(both pay the same password hash; the rest is session vs token bookkeeping)"
    )
    _report("Login, per login", logins, "ms")
    return 0
