"""Settings of authdemo: the one module that reads the environment.

Every value comes from an environment variable with a typed default, so the
same code runs embedded (SQLite, a per-process cache beside a shared one in
the database, generated secrets in var/) and in services mode
(``DATABASE_URL`` and ``REDIS_URL``). See README.md for the table of
variables.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from api import jwk
from authdemo.cookienames import cookie_name
from authdemo.varfiles import var_file_read_or_create

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Generated state of the embedded default (database, secrets, keys): git-ignored.
VAR_DIR = Path(env.str("AUTHDEMO_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _embedded_secret_key() -> str:
    return var_file_read_or_create(
        VAR_DIR / "secret_key", factory=lambda: secrets.token_urlsafe(50).encode()
    ).decode()


# Required in production: with DJANGO_DEBUG=0 and no DJANGO_SECRET_KEY the value
# stays empty and Django refuses to start ("The SECRET_KEY setting must not be
# empty"). The test settings use the generated file instead.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (_embedded_secret_key() if DEBUG else "")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])


def _site_url() -> str:
    """Return SITE_URL as configured, the embedded default, or derived from ALLOWED_HOSTS."""
    url = env.str("SITE_URL", default="").rstrip("/")
    if not url:
        if DEBUG:
            return "http://127.0.0.1:8000"
        host = ALLOWED_HOSTS[0] if ALLOWED_HOSTS else ""
        if not host or host.startswith((".", "*")):
            raise ImproperlyConfigured("Set SITE_URL (e.g. https://auth.example.com): the first of "
                                       "DJANGO_ALLOWED_HOSTS is not one host name to derive it from.")
        return f"https://{host}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
        raise ImproperlyConfigured(f"SITE_URL must be http(s)://host[:port], not {url!r}.")
    return url


# The site's own absolute URL: links in mails (password reset) are built from
# it, never from the request's Host header, which the client chooses (OWASP
# ASVS 5.0 V3.5; Host header poisoning). `make run` sets it to its own address.
SITE_URL = _site_url()

INSTALLED_APPS = [
    "authcache",
    "accounts",
    "api",
    "compare",
    "accounts.admin_site.AdminConfig",  # django.contrib.admin with the project's AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-csp's, with the site-wide policy built once (authdemo.middleware).
    "authdemo.middleware.CSPMiddleware",
    # A database or cache outage is a 503 with one log line, not a 500 (docs/operations.md).
    "authdemo.outage.OutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, except that a session deleted meanwhile means "logged out", not a 400.
    "accounts.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user from its snapshot cached beside the session (accounts.backends).
    "accounts.middleware.AuthenticationMiddleware",
    "authdemo.middleware.PrivateResponseMiddleware",
    # Django's, with the message storage made on first use (authdemo.middleware).
    "authdemo.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "authdemo.urls"
WSGI_APPLICATION = "authdemo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Every SQLite database, the embedded default or one named by DATABASE_URL
# (sqlite:///path), gets the same concurrency options: writers take the lock
# when the transaction starts, so two concurrent writers queue (up to
# `timeout` seconds) instead of failing with "database is locked" halfway
# through; WAL lets readers go on while one writer writes.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Persistent connections, checked before reuse so a restarted server costs
    # one failed ping, not a failed request. Measured against Django 5.2's
    # psycopg pool (2 processes x 2 threads, pool of 2-2 per process): no
    # difference beyond noise, on /api/health/ (one query and one cache round
    # trip per request: 1 230-1 420 req/s persistent, 700-1 500 pooled) nor on
    # logins (form 40 ms, token 35 ms p50 either way). A warm authenticated
    # request makes no query at all, and the check runs only before the first
    # query of a request. So no pool and no extra dependency.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Options given in the URL (?timeout=5) win over the shared ones.
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# Short timeouts make a dead Redis cost milliseconds, not seconds; after a
# failure the circuit breaker skips Redis for CACHE_BREAKER_SECONDS.
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_BREAKER_SECONDS = env.float("CACHE_BREAKER_SECONDS", default=1.5)
CACHE_EPOCH_SYNC_SECONDS = env.float("CACHE_EPOCH_SYNC_SECONDS", default=2.0)
NEAR_CACHE_SECONDS = env.float("NEAR_CACHE_SECONDS", default=60.0)
NEAR_CACHE_STALE_SECONDS = env.float("NEAR_CACHE_STALE_SECONDS", default=1.0)
NEAR_CACHE_MAX_ENTRIES = env.int("NEAR_CACHE_MAX_ENTRIES", default=10_000)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "authcache.near.NearRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="authdemo"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
            },
        }
    }
    # Redis is shared by every process (and every host) already.
    SHARED_CACHE_ALIAS = "default"
else:
    CACHES = {
        # Per process: the hot path reads it without a query; the revocation
        # stamp file tells every process of the host when to stop trusting it.
        "default": {
            "BACKEND": "authcache.process.ProcessMemoryCache",
            "LOCATION": "default",
            "OPTIONS": {"MAX_ENTRIES": env.int("LOCAL_CACHE_MAX_ENTRIES", default=10_000)},
        },
        "shared": {
            "BACKEND": "authcache.shared.SharedDatabaseCache",
            "LOCATION": "authdemo_shared_cache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
    }
    SHARED_CACHE_ALIAS = "shared"
# Login and action limits count in the shared cache, so every process sees
# every attempt (accounts.ratelimit: add, then an atomic incr).

# --- Users and passwords -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.SnapshotModelBackend"]
USER_SNAPSHOT_SECONDS = env.int("USER_SNAPSHOT_SECONDS", default=600)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"  # the home page, where both columns show the change
LOGOUT_REDIRECT_URL = "/"

# Argon2id first, at OWASP's m=19 MiB, t=2, p=1 (docs/passwords.md); it also
# verifies Argon2 hashes made with other parameters (Django's defaults) and
# re-hashes them at the next login. The others stay so older hashes verify and
# are upgraded the same way (Django re-hashes with the first hasher). Django's
# own Argon2PasswordHasher is not listed: it has the same algorithm name and
# would take over verification from the bounded one.
PASSWORD_HASHERS = [
    "accounts.hashers.BoundedArgon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Argon2 hashes running at once per process; each holds memory_cost (19 MiB),
# so a burst of logins takes at most this many times 19 MiB of hashing memory.
# Hashing is CPU-bound: more at once than there are cores adds memory and
# latency, no throughput. Default: the CPU count, at most 8.
PASSWORD_HASH_CONCURRENCY = env.int("PASSWORD_HASH_CONCURRENCY", default=min(os.cpu_count() or 1, 8))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login rate limits (accounts.ratelimit) ---------------------------------
# Failed attempts per username (case-folded, NFKC, stripped) from clients
# without a device cookie, and attempts per client address (IPv6: per /64),
# shared by every login path. LOGIN_RATELIMIT_DEVICE (failed attempts per
# trusted device), RATELIMIT_IPV6_PREFIX and the DEVICE_COOKIE_* settings
# have their defaults in accounts.ratelimit and accounts.devicecookie.
LOGIN_RATELIMIT_USERNAME = env.str("LOGIN_RATELIMIT_USERNAME", default="5/15m")
LOGIN_RATELIMIT_IP = env.str("LOGIN_RATELIMIT_IP", default="30/m")
# Signups per client IP (each costs a password hash and creates an account),
# password-reset requests per client IP, and reset mails per target address
# (counted whether or not an account has it, so limits reveal nothing).
SIGNUP_RATELIMIT_IP = env.str("SIGNUP_RATELIMIT_IP", default="10/h")
PASSWORD_RESET_RATELIMIT_IP = env.str("PASSWORD_RESET_RATELIMIT_IP", default="10/h")
PASSWORD_RESET_RATELIMIT_EMAIL = env.str("PASSWORD_RESET_RATELIMIT_EMAIL", default="3/h")
# Lab actions per client IP: a run revokes and replays this browser's
# credentials and asks the verifier, a replay asks both again.
LAB_RATELIMIT_IP = env.str("LAB_RATELIMIT_IP", default="60/m")
# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0: the client IP is REMOTE_ADDR and X-Forwarded-For is ignored (it is
# client-controlled).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Sessions (docs/sessions.md) --------------------------------------------
# Rows live in accounts.Session (user, created, last activity, IP, user agent);
# reads go through the cache (Redis in services mode), the database is the
# source of truth, so flushing the cache loses no session.
SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_ALIAS = "default"
SESSION_COOKIE_HTTPONLY = True  # OWASP ASVS 5.0 V3.3.4: not readable by scripts
SESSION_COOKIE_SAMESITE = "Lax"  # ASVS V3.3.2
# Fallback cookie age for sessions without login stamps; logged-in sessions
# follow the lifetimes below.
SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())
# Server-side lifetimes in seconds (OWASP ASVS 5.0 V7.3.1 idle, V7.3.2 absolute),
# enforced on every read of the session, not only by the cookie.
# Plain login: the cookie ends with the browser; the session ends after 1 h
# without activity and at the latest 12 h after login.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=60 * 60)
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=12 * 60 * 60)
# "Remember me": a persistent cookie; 7 days idle, 14 days at the latest.
SESSION_REMEMBER_IDLE_TIMEOUT = env.int("SESSION_REMEMBER_IDLE_TIMEOUT", default=7 * 24 * 60 * 60)
SESSION_REMEMBER_ABSOLUTE_LIFETIME = env.int(
    "SESSION_REMEMBER_ABSOLUTE_LIFETIME", default=14 * 24 * 60 * 60
)
# Last activity is written at most once per this many seconds per session, so
# an authenticated request normally writes nothing to the database.
SESSION_ACTIVITY_UPDATE_INTERVAL = env.int("SESSION_ACTIVITY_UPDATE_INTERVAL", default=60)
CSRF_COOKIE_SAMESITE = "Lax"
# Django's page, which also records a refusal the CSRF lab caused (compare.csrf_lab).
CSRF_FAILURE_VIEW = "compare.csrf_lab.csrf_failure"

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="authdemo@localhost")
# Seconds an email confirmation link stays valid (accounts.emails).
EMAIL_CONFIRMATION_TIMEOUT = env.int("EMAIL_CONFIRMATION_TIMEOUT", default=3 * 24 * 60 * 60)

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Transport security (Django deployment checklist) ----------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp), on every response (OWASP ASVS 5.0
# V3.4.3): scripts and styles only from this origin's files, never inline,
# so an injected <script> or event handler does not run; no plugins, no
# <base> rewriting, forms post only here, no framing. The Swagger UI loads its
# init script from /api/docs/?script (api/schema.py) for the same reason.
# Swagger UI draws its icons from data: URIs in its stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# HTTPS only in production (OWASP ASVS 5.0 V12.2.1; HSTS: V3.4.1): plain HTTP
# is redirected, except the load balancer's health check, which probes the
# backend directly and expects a 200, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it
# from client requests), trust it so request.is_secure() is right. gunicorn
# derives nothing from that header itself (authdemo/gunicorn.conf.py).
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- JWT signing keys (api/jwk.py, api/keyring.py, docs/jwt-keys.md) ------
# Tokens are signed with an asymmetric key: verifiers (this app, other
# services reading /.well-known/jwks.json) hold only public keys, and the one
# accepted algorithm is fixed here, never taken from a token (RFC 8725 §2.1,
# §3.1, §3.2). EdDSA/Ed25519 (RFC 8037) by default: small keys, deterministic
# signatures, no padding or curve-parameter choices to get wrong.
# JWT_ALGORITHM=RS256 (RSA 3072) for verifiers that lack EdDSA.
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="EdDSA")
if JWT_ALGORITHM not in ("EdDSA", "RS256"):
    raise ImproperlyConfigured("JWT_ALGORITHM must be EdDSA or RS256 (asymmetric only, RFC 8725 §3.1).")
# Embedded default: signing_key.pem, next_signing_key.pem (staged rotation)
# and previous/*.pem (retired public keys) are generated here by jwt_rotate_key.
JWT_KEYS_DIR = VAR_DIR / "jwt"


def _jwt_pem_from_env(name: str) -> str:
    """Return the PEM text of env var ``name``, or of the file named by ``<name>_FILE``, or ""."""
    text = env.str(name, default="")
    path = env.str(f"{name}_FILE", default="")
    if text and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if path:
        return Path(path).read_text()
    # One-line env files cannot hold newlines: accept "\n" escapes.
    return text.replace("\\n", "\n")


# Production: JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE (PKCS#8 PEM, the signing
# key) and JWT_EXTRA_PUBLIC_KEYS or JWT_EXTRA_PUBLIC_KEYS_FILE (concatenated
# PEM public keys also accepted and published: the next key before it signs,
# the previous ones until the refresh lifetime has passed). Without them the
# key is generated once into var/jwt/, as in the embedded default.
JWT_PRIVATE_KEY = _jwt_pem_from_env("JWT_PRIVATE_KEY")
try:
    if JWT_PRIVATE_KEY:
        JWT_KEYS_SOURCE = "environment"
        JWT_EXTRA_PUBLIC_KEYS = _jwt_pem_from_env("JWT_EXTRA_PUBLIC_KEYS")
    else:
        JWT_KEYS_SOURCE = "var"
        JWT_PRIVATE_KEY = var_file_read_or_create(
            jwk.key_files(JWT_KEYS_DIR).signing,
            factory=lambda: jwk.private_key_generate(algorithm=JWT_ALGORITHM),
        ).decode()
        JWT_EXTRA_PUBLIC_KEYS = jwk.key_files_extra_public_pem(JWT_KEYS_DIR)
    _jwt_public_key = jwk.public_key_pem(jwk.private_key_load(JWT_PRIVATE_KEY).public_key())
except jwk.JwkError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

# --- REST framework, SimpleJWT, OpenAPI -------------------------------------
REST_FRAMEWORK = {
    # JWT: bearer header first (no CSRF), then the access_token cookie and the
    # session (both CSRF-checked on unsafe methods); see docs/jwt.md.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.JWTBearerAuthentication",
        "api.authentication.JWTCookieAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME", default=86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ISSUER": env.str("JWT_ISSUER", default="authdemo"),
    "AUDIENCE": env.str("JWT_AUDIENCE", default="authdemo-api"),
    "LEEWAY": env.int("JWT_LEEWAY", default=5),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # JWT: the project's token classes (family claim, key ring backend).
    "AUTH_TOKEN_CLASSES": ("api.tokens.AccessToken",),
    # Asymmetric keys from the "JWT signing keys" section; api.keyring.token_backend()
    # adds the key ring (kid, previous keys) on top (RFC 8725 §3.1).
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_PRIVATE_KEY,
    "VERIFYING_KEY": _jwt_public_key,
}

# --- JWT transports and revocation (docs/jwt.md) ----------------------------
# Stateless mode: SimpleJWT's stateless user authentication, no user query and
# no revocation check per request. Only for the benchmark's comparison: a
# revoked, deactivated or deleted user's access token then works until it expires.
JWT_STATELESS = env.bool("JWT_STATELESS", default=False)
# Refresh reuse grace (seconds): the refresh token the current one replaced,
# presented again this soon after its rotation, gets the login's current pair
# instead of counting as reuse, so two tabs or threads refreshing at once do
# not log the user out; an older token is always reuse.
# 0: strict, every second presentation is reuse (docs/jwt.md, the trade-off).
JWT_REFRESH_REUSE_GRACE = env.int("JWT_REFRESH_REUSE_GRACE", default=5)
if JWT_REFRESH_REUSE_GRACE < 0:
    raise ImproperlyConfigured("JWT_REFRESH_REUSE_GRACE must be 0 (strict) or a number of seconds.")
# Cookie transport (docs/contract.md): both HttpOnly and SameSite=Lax; the refresh
# cookie only travels to the cookie endpoints; Secure outside DEBUG
# (OWASP ASVS 5.0 V3.3.1, V3.3.2, V3.3.4).
JWT_REFRESH_COOKIE_PATH = "/api/auth/cookie/"
JWT_COOKIE_SECURE = env.bool("JWT_COOKIE_SECURE", default=not DEBUG)

# --- Cookie names (authdemo/cookienames.py, docs/contract.md) ---------------
# Each follows the switch that makes that cookie Secure (OWASP ASVS 5.0
# V3.3.1): Secure, the session, CSRF and access cookies are __Host- (Path=/,
# no Domain: a sibling subdomain cannot toss a cookie at them); the refresh
# cookie, scoped to a narrower path, is __Secure-. Plain HTTP keeps the plain names.
SESSION_COOKIE_NAME = cookie_name("sessionid", secure=SESSION_COOKIE_SECURE)
CSRF_COOKIE_NAME = cookie_name("csrftoken", secure=CSRF_COOKIE_SECURE)
JWT_ACCESS_COOKIE = cookie_name("access_token", secure=JWT_COOKIE_SECURE)
JWT_REFRESH_COOKIE = cookie_name("refresh_token", secure=JWT_COOKIE_SECURE, host_only=False)

# --- The stateless verifier, as the labs call it (compare/verifier_client.py) -
# The revocation lab asks it about a revoked access token, server-side, with a
# short timeout; `make run` starts it beside the site (docs/verifier.md).
VERIFIER_URL = env.str("VERIFIER_URL", default="http://127.0.0.1:8001")
VERIFIER_TIMEOUT = env.float("VERIFIER_TIMEOUT", default=2.0)

SPECTACULAR_SETTINGS = {
    "TITLE": "authdemo API",
    "DESCRIPTION": "Session and JWT authentication side by side.",
    "VERSION": "1.0.0",
    # The contract lists /api/schema/ and /api/docs/ as endpoints: document them too.
    "SERVE_INCLUDE_SCHEMA": True,
    # Docs and schema are public, like the endpoints they describe.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Security events: lockouts, token reuse, revocations.
        "authdemo.security": {"level": "INFO"},
    },
}
