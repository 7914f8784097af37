"""The verifier without the site: its HTTP surface, CORS, JWKS parsing and caching, configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings

from tests.servers import gunicorn_config
from tests.verifier.helpers import access_claims, b64url, sign
from verifier.config import Config, config_from_env
from verifier.jwks import JwksDocument, KeyCache, jwks_parse

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://127.0.0.1:8000"


def _okp(key, kid="k1", **extra) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(key.public_key().public_bytes_raw()), "kid": kid,
            "alg": "EdDSA", "use": "sig", **extra}  # fmt: skip


def _rsa(key, kid="r1") -> dict:
    numbers = key.public_key().public_numbers()

    def uint(n: int) -> str:
        return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "n": uint(numbers.n), "e": uint(numbers.e), "kid": kid, "alg": "RS256"}


def _body(*jwks) -> bytes:
    return json.dumps({"keys": list(jwks)}).encode()


# --- JWKS parsing -------------------------------------------------------------


def test_jwks_parse_keeps_only_asymmetric_signature_keys():
    good = ed25519.Ed25519PrivateKey.generate()
    strong, weak = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 1024)
    document = jwks_parse(
        body=_body(
            _okp(good),
            _rsa(strong),
            _rsa(weak, kid="weak"),
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
            _okp(good, kid="none", alg="none"),
            _okp(good, kid="enc", use="enc"),
            _okp(good, kid="private", d="AAAA"),
            {**_okp(good, kid="mislabelled"), "alg": "RS256"},
            {"kty": "OKP", "kid": "broken", "alg": "EdDSA"},
            "not a key",
        ),
        cache_control="public, max-age=300",
    )
    assert sorted(document.keys) == ["k1", "r1"]
    assert document.keys["r1"].algorithm == "RS256"
    assert document.max_age == 300


@pytest.mark.parametrize(
    ("cache_control", "max_age"),
    [("", None), ("public, max-age=42", 42), ("no-store", 0), ("max-age=x", None)],
)
def test_jwks_parse_reads_max_age(cache_control, max_age):
    body = _body(_okp(ed25519.Ed25519PrivateKey.generate()))
    assert jwks_parse(body=body, cache_control=cache_control).max_age == max_age


@pytest.mark.parametrize("body", [b"", b"[]", b'{"keys": {}}', b'{"keys": []}', b"\xff"])
def test_jwks_parse_refuses_a_document_without_usable_keys(body):
    with pytest.raises(ValueError):
        jwks_parse(body=body)


# --- The key cache --------------------------------------------------------------


class FakeSite:
    def __init__(self, max_age: int | None = 300):
        self.keys: dict = {}
        self.max_age = max_age
        self.down = False
        self.calls = 0
        self.now = 1000.0

    def fetch(self, *, url: str, timeout: float) -> JwksDocument:
        self.calls += 1
        if self.down:
            raise ConnectionRefusedError("down")
        return JwksDocument(keys=dict(self.keys), max_age=self.max_age)

    def cache(self, **overrides) -> KeyCache:
        options = {"refetch_interval": 10, "min_ttl": 30, "max_ttl": 3600, **overrides}
        return KeyCache(url="http://site/jwks", fetch=self.fetch, clock=lambda: self.now, **options)


@pytest.mark.parametrize(("max_age", "ttl"), [(300, 300), (None, 300), (0, 30), (5, 30), (10**6, 3600)])
def test_the_jwks_max_age_is_honoured_within_bounds(max_age, ttl):
    site = FakeSite(max_age=max_age)
    site.keys = {"a": object()}
    cache = site.cache()
    assert cache.key_get(kid="a") is site.keys["a"]
    site.now += ttl - 1
    cache.key_get(kid="a")
    assert site.calls == 1
    site.now += 1
    cache.key_get(kid="a")
    assert site.calls == 2


def test_unknown_kids_refetch_at_most_once_per_interval_and_failures_keep_the_keys():
    site = FakeSite()
    site.keys = {"a": object()}
    cache = site.cache()
    assert cache.key_get(kid="b") is None
    for n in range(50):
        assert cache.key_get(kid=f"junk{n}") is None
    assert site.calls == 1
    site.now += 10
    site.keys["b"] = object()
    assert cache.key_get(kid="b") is site.keys["b"]
    assert site.calls == 2

    site.down = True
    site.now += 10_000
    assert cache.key_get(kid="a") is not None
    assert cache.key_get(kid="c") is None
    assert site.calls == 3
    # Down: still at most one attempt per interval, not one per request.
    site.now += 9
    assert cache.key_get(kid="c") is None
    assert site.calls == 3


# --- HTTP surface and CORS ------------------------------------------------------


@pytest.fixture(scope="module")
def module_rsa_key():
    """One RSA key for the module's verifiers: making one costs about 60 ms of CPU, a key set is read-only."""
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture
def local(verifier_for, module_rsa_key):
    """A verifier trusting a fixed key set (one Ed25519, one RSA key) served by a stdlib HTTP server."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    key, rsa_key = ed25519.Ed25519PrivateKey.generate(), module_rsa_key
    body = _body(_okp(key), _rsa(rsa_key))

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    verifier = verifier_for(f"http://127.0.0.1:{server.server_port}/jwks")
    verifier.key, verifier.rsa_key = key, rsa_key
    yield verifier
    server.shutdown()
    server.server_close()


def test_rs256_tokens_verify_and_algorithms_never_cross_keys(local):
    assert local.whoami(sign(local.rsa_key, access_claims(), kid="r1", algorithm="RS256"))[0] == 200
    # An RS256 token naming the EdDSA key is refused before any signature check.
    status, body, _ = local.whoami(sign(local.rsa_key, access_claims(), kid="k1", algorithm="RS256"))
    assert (status, body["code"]) == (401, "token_not_valid")


@pytest.mark.parametrize("path", ["/", "/whoami/", "/whoami/x", "/admin/", "/.well-known/jwks.json"])
def test_other_paths_are_404_json(local, path):
    status, body, _ = local.whoami(path=path)
    assert (status, body["code"]) == (404, "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD"])
def test_other_methods_are_405_json(local, method):
    status, body, headers = local.whoami(sign(local.key, access_claims(), kid="k1"), method=method)
    assert status == 405
    assert headers["Allow"] == "GET, OPTIONS"
    if method != "HEAD":
        assert body["code"] == "method_not_allowed"


def test_cors_lets_the_site_origins_read_answers_and_no_other(local):
    token = sign(local.key, access_claims(), kid="k1")
    status, _, headers = local.whoami(token, Origin=ORIGIN)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in headers
    assert "Origin" in headers["Vary"]
    # Refusals are readable too (the page shows the code).
    status, body, headers = local.whoami("garbage", Origin="http://localhost:8000")
    assert (status, body["code"]) == (401, "token_not_valid")
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    assert "WWW-Authenticate" in headers["Access-Control-Expose-Headers"]
    status, _, headers = local.whoami(token, Origin="http://evil.example")
    assert status == 200 and "Access-Control-Allow-Origin" not in headers


def test_a_preflight_from_the_site_allows_the_authorization_header(local):
    status, body, headers = local.whoami(
        method="OPTIONS",
        Origin=ORIGIN,
        **{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert (status, body) == (204, None)
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Methods"] == "GET"
    assert headers["Access-Control-Allow-Headers"] == "Authorization"
    status, _, headers = local.whoami(method="OPTIONS", Origin="http://evil.example")
    assert status == 204 and "Access-Control-Allow-Origin" not in headers


# --- Configuration and process ----------------------------------------------------


def test_defaults_match_the_site():
    config = config_from_env({})
    assert config == Config()
    assert (config.issuer, config.audience) == (
        settings.SIMPLE_JWT["ISSUER"],
        settings.SIMPLE_JWT["AUDIENCE"],
    )
    assert config.leeway == settings.SIMPLE_JWT["LEEWAY"]
    assert config.jwks_url == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert (config.host, config.port) == ("127.0.0.1", 8001)


def test_configuration_from_the_environment():
    config = config_from_env(
        {
            "JWKS_URL": "https://auth.example/.well-known/jwks.json",
            "VERIFIER_ISSUER": "iss",
            "VERIFIER_AUDIENCE": "aud",
            "VERIFIER_LEEWAY": "0",
            "VERIFIER_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
            "VERIFIER_REFETCH_INTERVAL": "2.5",
            "VERIFIER_PORT": "9001",
            "VERIFIER_VERIFIED_CACHE_SIZE": "0",
            "HOST": "0.0.0.0",
        }
    )
    assert config.verified_cache_size == 0
    assert config.jwks_url == "https://auth.example/.well-known/jwks.json"
    assert (config.issuer, config.audience, config.leeway) == ("iss", "aud", 0)
    assert config.allowed_origins == ("https://a.example", "https://b.example")
    assert (config.refetch_interval, config.host, config.port) == (2.5, "0.0.0.0", 9001)


@pytest.mark.parametrize(
    "environ",
    [
        {"JWKS_URL": "file:///etc/passwd"},
        {"VERIFIER_LEEWAY": "600"},
        {"VERIFIER_PORT": "http"},
        {"VERIFIER_VERIFIED_CACHE_SIZE": "-1"},
        {"VERIFIER_VERIFIED_CACHE_SIZE": "many"},
        {"VERIFIER_JWKS_MIN_TTL": "100", "VERIFIER_JWKS_MAX_TTL": "10"},
    ],
)
def test_bad_configuration_stops_the_verifier_with_a_message(environ):
    with pytest.raises(SystemExit, match=r"[A-Z_]+ must"):
        config_from_env(environ)


def test_the_verifier_imports_no_django_no_database_and_no_redis():
    code = (
        "import sys, verifier.app, verifier.__main__;"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework', 'redis',"
        " 'psycopg', 'sqlite3', 'authdemo', 'accounts', 'api'}); print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_serves_the_verifier_app_with_threads():
    from gunicorn.util import import_app

    cfg = gunicorn_config(ROOT / "verifier" / "gunicorn.conf.py")
    assert cfg.worker_class_str == "gthread" and cfg.threads >= 2
    # Several processes, each with its own key cache and refetch limit: N
    # processes fetch the JWKS at most N times per refetch interval.
    assert cfg.workers >= 2
    assert cfg.accesslog is None  # no log line per request by default
    assert cfg.limit_request_field_size >= 16 * 1024 + 100
    app = import_app(cfg.wsgi_app)
    assert app.config == config_from_env()


# --- Time claims: a NumericDate in range, or 401 (RFC 7519 §4.1.4, RFC 8725 §3.8) ---

BAD_NUMERIC_DATES = {
    "1e300": 1e300,
    "string": "9999999999",
    "huge-int": 10**30,
    "after-9999": 253402300800,
    "negative": -1,
    "true": True,
    "null": None,
    "infinity": float("inf"),
    "nan": float("nan"),
    "list": [1],
}


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("label", BAD_NUMERIC_DATES)
def test_a_signed_token_with_a_time_claim_out_of_range_is_refused(local, claim, label):
    claims = {**access_claims(), claim: BAD_NUMERIC_DATES[label]}  # null kept, as JSON null
    status, body, headers = local.whoami(sign(local.key, claims, kid="k1"))
    assert status == 401, body
    assert body["code"] in {"token_not_valid", "token_expired"}
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_fractional_time_claims_are_numeric_dates(local):
    now = local.now()
    claims = access_claims(iat=now - 0.5, nbf=now - 0.25, exp=now + 299.5)
    status, body, _ = local.whoami(sign(local.key, claims, kid="k1"))
    assert status == 200, body
    assert body["claims"]["exp"] == claims["exp"]


# --- The JWKS fetch follows no redirect -------------------------------------------


@pytest.fixture
def redirecting_jwks():
    """A JWKS URL answering 302 to a server with a good key set; ``hits`` counts requests to the latter."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    key = ed25519.Ed25519PrivateKey.generate()
    body = _body(_okp(key))
    hits: list[str] = []

    class Target(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            return None

    target = ThreadingHTTPServer(("127.0.0.1", 0), Target)

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target.server_port}/jwks")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            return None

    redirect = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for server in (target, redirect):
        Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{redirect.server_port}/jwks", key, hits
    for server in (target, redirect):
        server.shutdown()
        server.server_close()


def test_jwks_fetch_refuses_a_redirect(redirecting_jwks):
    import urllib.error

    from verifier.jwks import jwks_fetch

    url, _, hits = redirecting_jwks
    with pytest.raises(urllib.error.HTTPError) as refused:
        jwks_fetch(url=url, timeout=3)
    assert refused.value.code == 302
    assert isinstance(refused.value, OSError)  # what KeyCache treats as a failed fetch
    assert hits == []


def test_a_verifier_whose_jwks_redirects_trusts_no_key(redirecting_jwks, verifier_for):
    url, key, hits = redirecting_jwks
    verifier = verifier_for(url)
    status, body, _ = verifier.whoami(sign(key, access_claims(), kid="k1"))
    assert (status, body["code"]) == (401, "unknown_kid")
    assert verifier.fetches == [url]
    assert hits == []
