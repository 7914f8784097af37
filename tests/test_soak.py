"""Soak: two instances under mixed load for a bounded time; no 5xx, and the books balance afterwards.

Several threads, one user each, log in by form, token and cookie, call
/api/me/ by all three mechanisms, refresh, revoke, log out and log out
everywhere, on either instance at random (loopback only). Every revoked
credential goes to a shared graveyard only after its revocation call
returned; every thread keeps replaying graveyard credentials, and none may
ever be answered 200. Afterwards every login has its session or family row,
revoked exactly when the run ended it.

SOAK_SECONDS sets the duration (default 60; `.ci/run` uses less).
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.conf import settings

from accounts.models import Session
from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.instances import SERVICES_MODE, SERVICES_ONLY, Browser, instances_running

pytestmark = [
    pytest.mark.live,
    pytest.mark.soak,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SERVICES_MODE, reason=SERVICES_ONLY),
]

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
THREADS = 6


@dataclass
class Books:
    """What the run did, for the reconciliation: shared by every thread under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[tuple[str, str, int]] = field(default_factory=list)
    # kind ("session" or "family"), id -> ended by the run?
    logins: dict[tuple[str, str], bool] = field(default_factory=dict)
    # (kind, credential, monotonic time its revocation returned)
    graveyard: list[tuple[str, str, float]] = field(default_factory=list)
    # (kind, monotonic start of the replay, revoked at, status)
    replays: list[tuple[str, float, float, int]] = field(default_factory=list)

    def seen(self, action: str, url: str, status: int) -> int:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.server_errors.append((action, url, status))
        return status


class Worker:
    """One user's client: at most one session, one bearer pair and one cookie login at a time."""

    def __init__(self, books: Books, hosts: list[str], username: str, password: str, seed: int) -> None:
        self.books, self.hosts, self.username, self.password = books, hosts, username, password
        self.random = random.Random(seed)
        self.session: Browser | None = None
        self.pair: dict | None = None
        self.cookie: Browser | None = None
        self.mine: set[tuple[str, str]] = set()  # this user's logins, for log-out-everywhere

    def host(self) -> str:
        return self.random.choice(self.hosts)

    def call(self, action: str, browser: Browser, path: str, method: str = "GET", **kwargs):
        url = self.host() + path
        status, body = browser.request(url, method, **kwargs)
        self.books.seen(action, path, status)
        return status, body

    def login(self, kind: str, ident: str) -> None:
        with self.books.lock:
            self.books.logins[(kind, ident)] = False
        self.mine.add((kind, ident))

    def ended(self, logins: set, dead: list[tuple[str, str]]) -> None:
        revoked_at = time.monotonic()
        with self.books.lock:
            for login in logins:
                self.books.logins[login] = True
            self.books.graveyard.extend((kind, value, revoked_at) for kind, value in dead)
        self.mine -= logins

    # --- actions -------------------------------------------------------------------
    def form_login(self) -> None:
        browser = Browser()
        browser.request(self.host() + "/accounts/login/")
        status, _ = self.call(
            "form login",
            browser,
            "/accounts/login/",
            "POST",
            form={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME],
            },
        )
        assert status == 302, status
        self.session = browser
        self.login("session", browser.cookies[settings.SESSION_COOKIE_NAME])

    def token_login(self) -> None:
        credentials = {"username": self.username, "password": self.password}
        status, pair = self.call("token login", Browser(), "/api/auth/token/", "POST", json_body=credentials)
        assert status == 200, pair
        self.pair = pair
        self.login("family", str(RefreshToken(pair["refresh"]).family_id))

    def cookie_login(self) -> None:
        browser = Browser()
        credentials = {"username": self.username, "password": self.password}
        status, _ = self.call(
            "cookie login", browser, "/api/auth/cookie/login/", "POST", json_body=credentials
        )
        assert status == 200, status
        self.cookie = browser
        self.login("family", str(RefreshToken(browser.cookies[settings.JWT_REFRESH_COOKIE]).family_id))

    def me(self) -> None:
        if self.session:
            status, body = self.call("me session", self.session, "/api/me/")
            assert (status, body["auth"]) == (200, "session"), body
        if self.pair:
            headers = {"Authorization": f"Bearer {self.pair['access']}"}
            status, body = self.call("me bearer", Browser(), "/api/me/", headers=headers)
            assert (status, body["auth"]) == (200, "jwt-bearer"), body
        if self.cookie:
            status, body = self.call("me cookie", self.cookie, "/api/me/")
            assert (status, body["auth"]) == (200, "jwt-cookie"), body

    def refresh(self) -> None:
        if self.pair:
            status, pair = self.call(
                "refresh", Browser(), "/api/auth/token/refresh/", "POST", json_body=self.pair
            )
            assert status == 200, pair
            self.pair = pair
        if self.cookie:
            status, body = self.call(
                "cookie refresh", self.cookie, "/api/auth/cookie/refresh/", "POST", headers=self.cookie.csrf()
            )
            assert status == 200, body

    def revoke_one(self) -> None:
        choice = self.random.choice(["bearer", "cookie", "session"])
        if choice == "bearer" and self.pair:
            pair, self.pair = self.pair, None
            headers = {"Authorization": f"Bearer {pair['access']}"}
            status, _ = self.call(
                "revoke",
                Browser(),
                "/api/auth/token/revoke/",
                "POST",
                json_body={"refresh": pair["refresh"]},
                headers=headers,
            )
            assert status == 204, status
            family = ("family", str(RefreshToken(pair["refresh"]).family_id))
            self.ended({family}, [("bearer", pair["access"]), ("refresh", pair["refresh"])])
        elif choice == "cookie" and self.cookie:
            browser, self.cookie = self.cookie, None
            dead = [
                ("cookie", browser.cookies[settings.JWT_ACCESS_COOKIE]),
                ("refresh", browser.cookies[settings.JWT_REFRESH_COOKIE]),
            ]
            family = ("family", str(RefreshToken(browser.cookies[settings.JWT_REFRESH_COOKIE]).family_id))
            status, _ = self.call(
                "cookie logout", browser, "/api/auth/cookie/logout/", "POST", headers=browser.csrf()
            )
            assert status == 204, status
            self.ended({family}, dead)
        elif choice == "session" and self.session:
            browser, self.session = self.session, None
            key = browser.cookies[settings.SESSION_COOKIE_NAME]
            status, _ = self.call("logout", browser, "/accounts/logout/", "POST", headers=browser.csrf())
            assert status == 302, status
            self.ended({("session", key)}, [("session", key)])

    def logout_everywhere(self) -> None:
        if not self.pair:
            return
        dead = [("bearer", self.pair["access"]), ("refresh", self.pair["refresh"])]
        if self.cookie:
            dead += [
                ("cookie", self.cookie.cookies[settings.JWT_ACCESS_COOKIE]),
                ("refresh", self.cookie.cookies[settings.JWT_REFRESH_COOKIE]),
            ]
        if self.session:
            dead.append(("session", self.session.cookies[settings.SESSION_COOKIE_NAME]))
        headers = {"Authorization": f"Bearer {self.pair['access']}"}
        status, _ = self.call("logout-all", Browser(), "/api/auth/logout-all/", "POST", headers=headers)
        assert status == 204, status
        self.session = self.pair = self.cookie = None
        self.ended(set(self.mine), dead)

    def replay(self) -> None:
        with self.books.lock:
            if not self.books.graveyard:
                return
            kind, value, revoked_at = self.random.choice(self.books.graveyard)
        browser, path, method, kwargs = Browser(), "/api/me/", "GET", {}
        if kind == "bearer":
            kwargs["headers"] = {"Authorization": f"Bearer {value}"}
        elif kind == "cookie":
            browser.cookies[settings.JWT_ACCESS_COOKIE] = value
        elif kind == "session":
            browser.cookies[settings.SESSION_COOKIE_NAME] = value
        else:
            path, method, kwargs["json_body"] = "/api/auth/token/refresh/", "POST", {"refresh": value}
        started = time.monotonic()
        status, _ = self.call(f"replay {kind}", browser, path, method, **kwargs)
        with self.books.lock:
            self.books.replays.append((kind, started, revoked_at, status))

    def run(self, deadline: float) -> None:
        actions = [
            (self.form_login, 2),
            (self.token_login, 2),
            (self.cookie_login, 2),
            (self.me, 6),
            (self.refresh, 3),
            (self.revoke_one, 2),
            (self.logout_everywhere, 1),
            (self.replay, 4),
        ]
        functions, weights = zip(*actions, strict=True)
        while time.monotonic() < deadline:
            self.random.choices(functions, weights)[0]()


def test_soak_two_instances_mixed_load(tmp_path, user_factory, password):
    users = [user_factory(username=f"soak{n}") for n in range(THREADS)]
    books = Books()
    failures: list[BaseException] = []
    env = {"LOGIN_RATELIMIT_USERNAME": "100000/15m", "LOGIN_RATELIMIT_IP": "100000/m"}
    with instances_running(2, tmp_path=tmp_path, env=env) as hosts:
        deadline = time.monotonic() + SECONDS
        workers = [Worker(books, hosts, u.username, password, seed=n) for n, u in enumerate(users)]

        def run(worker: Worker) -> None:
            try:
                worker.run(deadline)
            except BaseException as exc:  # reported below with the books
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 120)

    summary = (
        f"statuses {sorted(books.statuses.items())}, {len(books.logins)} logins, {len(books.replays)} replays"
    )
    assert not failures, (failures[:3], summary)
    assert books.server_errors == [], summary
    # The run exercised every path.
    kinds = {kind for kind, _ in books.logins}
    assert kinds == {"session", "family"} and len(books.logins) >= 3 * THREADS, summary
    assert {kind for kind, *_ in books.replays} == {"bearer", "cookie", "session", "refresh"}, summary
    assert sum(books.logins.values()) >= THREADS, summary

    # No revoked credential was ever answered 200 after its revocation returned.
    assert all(started > revoked_at for _, started, revoked_at, _ in books.replays)
    assert {status for *_, status in books.replays} == {401}, summary

    # Every login has its row, ended exactly when the run ended it.
    families = {ident: ended for (kind, ident), ended in books.logins.items() if kind == "family"}
    rows = dict(TokenFamily.objects.filter(user__in=users).values_list("pk", "revoked_at"))
    assert {str(pk): revoked is not None for pk, revoked in rows.items()} == families
    assert not TokenFamily.objects.filter(revoked_reason=TokenFamily.Reason.REUSE).exists()
    sessions = {ident for (kind, ident), ended in books.logins.items() if kind == "session" and not ended}
    assert set(Session.objects.filter(user__in=users).values_list("session_key", flat=True)) == sessions
