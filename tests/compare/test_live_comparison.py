"""The home page as a live comparison: what this browser holds, what the server holds, measured costs."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings

from api.models import TokenFamily
from compare import benchresults

pytestmark = pytest.mark.django_db

COOKIE_LOGIN = "/api/auth/cookie/login/"


@pytest.fixture
def both(client, user, password):
    """A client logged in by session form and by JWT cookie, as one browser."""
    assert client.post("/accounts/login/", {"username": "alice", "password": password}).status_code == 302
    response = client.post(
        COOKIE_LOGIN, {"username": "alice", "password": password}, content_type="application/json"
    )
    assert response.status_code == 200
    return client


def test_the_raw_tokens_never_reach_the_html(both):
    access = both.cookies[settings.JWT_ACCESS_COOKIE].value
    refresh = both.cookies[settings.JWT_REFRESH_COOKIE].value
    session_key = both.cookies[settings.SESSION_COOKIE_NAME].value
    body = both.get("/").content.decode()
    for secret in (access, refresh, session_key, *access.split("."), *refresh.split(".")):
        assert secret not in body
    # ... but its decoded claims do, rendered by the server.
    assert 'data-testid="jwt-claims"' in body
    assert "<code>authdemo-api</code>" in body and "<code>EdDSA</code>" in body


def test_cookie_sizes_are_the_bytes_sent(both):
    access = both.cookies[settings.JWT_ACCESS_COOKIE].value
    session_key = both.cookies[settings.SESSION_COOKIE_NAME].value
    body = both.get("/").content.decode()
    for name, value in ((settings.JWT_ACCESS_COOKIE, access), (settings.SESSION_COOKIE_NAME, session_key)):
        assert f'data-testid="cookie-size-{name}">{len(name) + 1 + len(value)}<' in body
    bearer = len("Authorization: Bearer ") + len(access)
    assert f'data-testid="bearer-size">{bearer}<' in body


def test_countdown_carries_the_exp_of_the_access_token(both):
    from api.tokens import AccessToken

    exp = AccessToken(both.cookies[settings.JWT_ACCESS_COOKIE].value)["exp"]
    body = both.get("/").content.decode()
    assert f'data-countdown-exp="{exp}"' in body


def test_server_rows_session_and_family(both, user):
    body = both.get("/").content.decode()
    assert 'data-testid="session-row"' in body and 'data-testid="family-row"' in body
    family = TokenFamily.objects.get(user=user)
    assert str(family.pk)[:8] in body
    assert 'data-testid="family-rows">3<' in body  # family, outstanding token, link
    assert 'data-testid="family-rotations">0<' in body


def test_a_rotation_adds_three_rows(both):
    csrf = both.cookies[settings.CSRF_COOKIE_NAME].value
    assert (
        both.post(
            "/api/auth/cookie/refresh/", content_type="application/json", HTTP_X_CSRFTOKEN=csrf
        ).status_code
        == 200
    )
    body = both.get("/").content.decode()
    assert 'data-testid="family-rotations">1<' in body
    assert 'data-testid="family-rows">6<' in body


def test_family_records_ip_user_agent_and_transport(client, user, password):
    client.post(
        COOKIE_LOGIN,
        {"username": "alice", "password": password},
        content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        REMOTE_ADDR="203.0.113.9",
    )
    client.post(
        "/api/auth/token/", {"username": "alice", "password": password}, content_type="application/json"
    )
    cookie, bearer = TokenFamily.objects.order_by("created_at")
    assert (cookie.transport, cookie.ip, cookie.user_agent) == (
        "cookie",
        "203.0.113.9",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
    )
    assert bearer.transport == "bearer"


def test_login_writes_are_metered_per_kind(both):
    body = both.get("/").content.decode()
    # The session login's INSERT happens in the session middleware: metered from outside.
    assert "accounts_session" in body
    assert "api_tokenfamily" in body and "token_blacklist_outstandingtoken" in body
    assert body.count("no login of this kind metered yet") == 1  # the bearer login


def test_failed_logins_are_not_metered(client, user):
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    client.post(COOKIE_LOGIN, {"username": "alice", "password": "wrong"}, content_type="application/json")
    body = client.get("/").content.decode()
    assert body.count("no login of this kind metered yet") == 3


def test_costs_endpoint_measures_each_credential_through_api_me(both):
    costs = both.get("/compare/costs/").json()
    assert costs["session"]["auth"] == "session" and costs["session"]["status"] == 200
    assert costs["jwt_cookie"]["auth"] == "jwt-cookie"
    assert costs["jwt_bearer"]["auth"] == "jwt-bearer"
    # Stateful on both sides here: the session or the verdict, with the user
    # snapshot, from the cache (the database only when the cache is cold).
    # A warm request: no query, and one read: a cache call (a round trip in
    # services mode), or in services mode the process's near cache instead
    # (authcache.near; no round trip).
    for kind in ("session", "jwt_cookie", "jwt_bearer"):
        cost = costs[kind]
        assert (cost["queries"], cost["cache_calls"] + cost["near_reads"]) == (0, 1), cost
        if not settings.REDIS_URL:
            assert cost["near_reads"] == 0
    # The stateless variant asks no store.
    stateless = costs["jwt_stateless"]
    assert (stateless["queries"], stateless["cache_calls"], stateless["near_reads"]) == (0, 0, 0)


def test_costs_endpoint_follows_a_revocation(both, user):
    TokenFamily.objects.filter(user=user).update(revoked_at="2026-01-01T00:00:00Z")
    from django.core.cache import cache

    cache.clear()
    costs = both.get("/compare/costs/").json()
    # The access cookie is still a valid signature: the stateful replay is refused, the stateless one is not.
    assert costs["jwt_cookie"]["status"] == 401
    assert costs["jwt_stateless"]["status"] == 200


def test_costs_endpoint_anonymous_measures_nothing(client):
    response = client.get("/compare/costs/")
    assert response.status_code == 200
    assert response.json() == {"session": None, "jwt_cookie": None, "jwt_bearer": None, "jwt_stateless": None}
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert client.post("/compare/costs/").status_code == 405


def test_home_queries_are_bounded(both, django_assert_max_num_queries):
    both.get("/")  # warm caches
    with django_assert_max_num_queries(7):
        assert both.get("/").status_code == 200


def test_home_anonymous_queries(client, django_assert_num_queries):
    from authcache.shared import SharedDatabaseCache, shared_cache

    # Nothing but the last logins' measured cost, from the shared cache: a
    # Redis round trip in services mode, one SELECT of its table without Redis.
    with django_assert_num_queries(1 if isinstance(shared_cache(), SharedDatabaseCache) else 0):
        assert client.get("/").status_code == 200


def test_labs_docs_and_device_links(client, tmp_path, monkeypatch):
    monkeypatch.setattr(benchresults, "BENCH_RESULTS", tmp_path / "absent.json")
    body = client.get("/").content.decode()
    for href in (
        "/lab/revocation/",
        "/lab/bearer/",
        "/lab/xss-csrf/",
        "/api/docs/",
        "/accounts/sessions/",
        "/devices/",
    ):
        assert f'href="{href}' in body
    assert "docs/jwt.md" in body and "run <code>make bench</code>" in body


def test_revocation_row_uses_the_configured_lifetime(client, settings):
    from datetime import timedelta

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(seconds=123)}
    body = client.get("/").content.decode()
    assert "until exp = 123 s" in body


def test_no_inline_script_or_style(both):
    body = both.get("/").content.decode()
    assert "style=" not in body
    # Every script is an ES module loaded from this origin: none inline (CSP script-src 'self').
    scripts = re.findall(r"<script\b[^>]*>", body)
    module = re.compile(r'<script type="module" src="/static/js/[\w-]+\.js">')
    assert scripts and all(module.fullmatch(s) for s in scripts)


def test_bench_results_are_shown_with_date_and_machine(client, tmp_path, monkeypatch, settings):
    # The page cites the rows of the mode this instance runs in.
    server = "authdemo services" if settings.REDIS_URL else "authdemo embedded"
    results = {
        "date": "2026-11-20",
        "machine": {"hostname": "bench-host", "cpu": "Test CPU", "cores": 2},
        "servers": [
            {"name": server, "kind": "authdemo", "note": "1 worker, 8 threads"},
            {"name": "django-naive", "kind": "django-naive", "note": "gunicorn 2 sync workers"},
        ],
        "loads": [
            {"server": server, "mechanism": "session", "rps": 812.4, "p50_ms": 1.2,
             "p99_ms": 3.4, "errors": 0, "ratio": 0.8},
            {"server": server, "mechanism": "jwt-bearer", "rps": 790.1, "p50_ms": 1.3,
             "p99_ms": 3.9, "errors": 0, "ratio": 0.78},
            # A faster peer is shown in the table, never as authdemo's figure.
            {"server": "django-naive", "mechanism": "session", "rps": 5000.0, "errors": 0, "ratio": 0.9},
            "garbage",
            {"mechanism": 5, "rps": "fast"},
        ],
    }  # fmt: skip
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    monkeypatch.setattr(benchresults, "BENCH_RESULTS", path)
    body = client.get("/").content.decode()
    assert "2026-11-20" in body and "bench-host, Test CPU, 2 cores" in body
    assert 'data-testid="bench-session"><strong>812</strong>' in body
    assert 'data-testid="bench-jwt"><strong>790</strong>' in body
    assert "0.80\N{MULTIPLICATION SIGN}" in body and "1 worker, 8 threads" in body


def test_the_jwt_throughput_cell_is_the_revocable_token(client, tmp_path, monkeypatch, settings):
    mode, other = ("services", "embedded") if settings.REDIS_URL else ("embedded", "services")
    loads = [
        {"server": f"authdemo {mode}", "mechanism": "session", "rps": 2427.0},
        {"server": f"authdemo {mode}", "mechanism": "jwt-bearer", "rps": 2435.0},
        {"server": f"authdemo {mode}", "mechanism": "jwt-cookie", "rps": 2370.0},
        {"server": f"authdemo {mode} stateless", "mechanism": "jwt-bearer-stateless", "rps": 2524.0},
        {"server": f"authdemo {other}", "mechanism": "jwt-bearer", "rps": 9999.0},
        {"server": "verifier", "mechanism": "jwt-bearer-stateless", "rps": 1407.0},
    ]
    servers = [{"name": n, "kind": "verifier" if n == "verifier" else "authdemo", "note": "n"}
               for n in {row["server"] for row in loads}]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"date": "2026-11-28", "machine": {"hostname": "vm"}, "servers": servers,
                                "loads": loads}))
    monkeypatch.setattr(benchresults, "BENCH_RESULTS", path)
    body = client.get("/").content.decode()
    jwt_cell = body.split('data-testid="bench-jwt">')[1].split("</td>")[0]
    stateless_cell = body.split('data-testid="bench-stateless">')[1].split("</td>")[0]
    assert "<strong>2435</strong> rps bearer" in jwt_cell and "2370" in jwt_cell
    assert "2524" not in jwt_cell and "9999" not in jwt_cell
    assert "<strong>2524</strong>" in stateless_cell and "verifier: 1407" in stateless_cell
    source = body.split('data-testid="bench-source">')[1].split("</td>")[0]
    assert "2026-11-28" in source and "not this instance" in source


@pytest.mark.parametrize(
    ("session", "jwt", "word"),
    [(3, 3, "as many rows as"), (1, 3, "more rows than"), (4, 3, "fewer rows than"), (None, 3, None)],
)
def test_the_login_writes_verdict_follows_its_cells(client, monkeypatch, session, jwt, word):
    from compare import views

    cost = {"writes": 0, "written": {}, "reads": 0, "cache_calls": 0}
    costs = {"jwt-cookie": {**cost, "writes": jwt}, "jwt-bearer": {**cost, "writes": jwt}}
    if session is not None:
        costs["session"] = {**cost, "writes": session}
    monkeypatch.setattr(views, "login_costs", lambda: costs)
    body = client.get("/").content.decode()
    cells = {
        name: body.split(f'data-testid="login-writes-{name}">')[1].split("</td>")[0]
        for name in ("session", "jwt", "verdict")
    }
    if session is not None:
        assert f"<strong>{session}</strong> write" in cells["session"]
    assert f"<strong>{jwt}</strong> write" in cells["jwt"]
    if word is None:
        assert "Log in both ways" in cells["verdict"] and "rows than" not in cells["verdict"]
    else:
        assert f"a JWT login writes {word} a session login" in cells["verdict"]


def test_the_committed_bench_results_are_read():
    """The page reads the very format `make bench` writes (docs/bench/results.json)."""
    results = benchresults.bench_results_load()
    assert results is not None and results.machine != "unknown machine"
    rows = results.throughput(mode="embedded")
    assert rows["session"] is not None and rows["jwt"] is not None and rows["stateless"] is not None
    assert {row.kind for row in results.rows} >= {"authdemo"}


@pytest.mark.parametrize(
    "content", ["not json", "[]", '{"loads": "x"}', '{"loads": [1, null]}', '{"loads": [], "servers": 3}']
)
def test_broken_bench_results_never_fail_the_page(client, tmp_path, monkeypatch, content):
    path = tmp_path / "results.json"
    path.write_text(content)
    monkeypatch.setattr(benchresults, "BENCH_RESULTS", path)
    assert client.get("/").status_code == 200


def test_home_says_how_a_warm_read_is_answered_in_this_mode(client, settings):
    # Services mode with its near cache: the read is answered in the process, kept exact by Redis.
    text = "which Redis's invalidation messages keep exact"
    assert (text in client.get("/").content.decode()) == bool(settings.REDIS_URL)
    settings.NEAR_CACHE_SECONDS = 0
    assert text not in client.get("/").content.decode()
