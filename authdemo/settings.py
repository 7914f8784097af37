"""Settings of authdemo: the one reader of the environment (docs/configuration.md).

They only declare: no app import, no file written, no validation (each app's
checks.py); app tunables have their defaults in each app's conf.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from authdemo.cookienames import cookie_name
from authdemo.varfiles import var_secret_read

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Generated state of the embedded default (database, secrets, keys): git-ignored.
VAR_DIR = Path(env.str("AUTHDEMO_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Required with DJANGO_DEBUG=0 (empty, Django refuses to start); the embedded
# default reads the key `manage.py init_secrets` wrote to SECRET_KEY_FILE.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
SECRET_KEY_FILE = None if SECRET_KEY or not DEBUG else VAR_DIR / "secret_key"
if SECRET_KEY_FILE:
    SECRET_KEY = var_secret_read(SECRET_KEY_FILE)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Links in mails are built from it, never from the client's Host header (OWASP
# ASVS 5.0 V3.5); unset, derived from ALLOWED_HOSTS; checked in accounts/checks.py.
SITE_URL = env.str("SITE_URL", default="").rstrip("/") or (
    "http://localhost:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0]}" if ALLOWED_HOSTS else ""
)

INSTALLED_APPS = [
    "authcache", "passkeys", "limits",  # cache layer, WebAuthn, rate limits: both sides build on them
    "accounts", "mfa",  # the session side, and its second factors (which accounts imports nothing of)
    "api", "compare",  # the token side; the comparison and the labs over both
    "siteadmin",  # the admin's pages of users, sessions and tokens
    "siteadmin.admin_site.AdminConfig",  # django.contrib.admin with the project's AdminSite
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
    "csp", "django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static",  # mfa.services
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The same Content-Security-Policy on every answer, API included (OWASP ASVS 5.0 V3.4.3).
    "authdemo.middleware.ContentSecurityPolicyMiddleware",
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
    "django.contrib.messages.middleware.MessageMiddleware",
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
# Every SQLite database: writers take the lock when the transaction starts, so
# they queue (up to `timeout` s) instead of failing halfway; WAL lets readers on.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Persistent connections, checked before reuse (docs/operations.md, "Per-request cost").
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

# --- Users and passwords -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.SnapshotModelBackend"]
LOGIN_URL = "/accounts/login/"
ACCOUNTS_LOGIN_SECOND_STEP = "mfa.steps.SecondFactorStep"  # a hook of accounts/conf.py
LOGIN_REDIRECT_URL = "/"  # the home page, where both columns show the change
LOGOUT_REDIRECT_URL = "/"

# Argon2id at OWASP's m=19 MiB, t=2, p=1 (docs/passwords.md); older hashes are
# re-hashed at the next login. Not Django's Argon2 hasher: the same algorithm name.
PASSWORD_HASHERS = [
    "accounts.hashers.BoundedArgon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Client IP (authdemo/http.py): proxies that append to X-Forwarded-For; 0: REMOTE_ADDR
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Sessions (docs/sessions.md) --------------------------------------------
# Rows in accounts.Session, read through the cache (the database is the truth).
SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_ALIAS = "default"
SESSION_COOKIE_HTTPONLY = True  # OWASP ASVS 5.0 V3.3.4: not readable by scripts
SESSION_COOKIE_SAMESITE = "Lax"  # ASVS V3.3.2
# Fallback only: logged-in sessions follow the lifetimes of accounts/conf.py.
SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())
CSRF_COOKIE_SAMESITE = "Lax"
# Django's page, which also records a refusal the CSRF lab caused (compare.csrf_lab).
CSRF_FAILURE_VIEW = "compare.csrf_lab.csrf_failure"

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="authdemo@localhost")

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
# CSP on every response (OWASP ASVS 5.0 V3.4.3): scripts and styles only from
# this origin's files, never inline; data: images are Swagger UI's icons.
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
# HTTPS only in production (OWASP ASVS 5.0 V12.2.1; HSTS: V3.4.1), except the
# load balancer's health check, which probes the backend directly.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
# Behind a TLS proxy that sets X-Forwarded-Proto (and strips the client's).
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- JWT signing keys (api/jwk.py, api/keyring.py, docs/jwt-keys.md) ------
# Asymmetric only, fixed here, never taken from a token (RFC 8725 §2.1, §3.1,
# §3.2). Keys as PEM text ("\n" escapes accepted) or files; without them, the
# files in JWT_KEYS_DIR made by `manage.py init_secrets`. Read by api/conf.py.
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="EdDSA")
JWT_PRIVATE_KEY = env.str("JWT_PRIVATE_KEY", default="").replace("\\n", "\n")
JWT_PRIVATE_KEY_FILE = env.str("JWT_PRIVATE_KEY_FILE", default="")
JWT_EXTRA_PUBLIC_KEYS = env.str("JWT_EXTRA_PUBLIC_KEYS", default="").replace("\\n", "\n")
JWT_EXTRA_PUBLIC_KEYS_FILE = env.str("JWT_EXTRA_PUBLIC_KEYS_FILE", default="")
JWT_KEYS_SOURCE = "environment" if JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE else "var"
JWT_KEYS_DIR = VAR_DIR / "jwt"

# --- REST framework, SimpleJWT, OpenAPI -------------------------------------
REST_FRAMEWORK = {
    # Bearer first (no CSRF), then the access cookie and the session (CSRF-checked; docs/jwt.md).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.JWTBearerAuthentication",
        "api.authentication.JWTCookieAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.JSONContentNegotiation",
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
    "AUTH_TOKEN_CLASSES": ("api.tokens.AccessToken",),  # family claim, key ring backend
    # SIGNING_KEY, VERIFYING_KEY: set by the api app from the keys above (api/conf.py).
    "ALGORITHM": JWT_ALGORITHM,
}

# --- JWT cookies (docs/jwt.md): HttpOnly, SameSite=Lax, Secure outside DEBUG (ASVS 5.0 V3.3)
JWT_REFRESH_COOKIE_PATH = "/api/auth/cookie/"
JWT_COOKIE_SECURE = env.bool("JWT_COOKIE_SECURE", default=not DEBUG)

# --- Cookie names (authdemo/cookienames.py, docs/contract.md) ---------------
# Secure cookies get the __Host- prefix (Path=/, no Domain: no sibling subdomain
# can toss one), the path-scoped refresh cookie __Secure- (OWASP ASVS 5.0 V3.3.1).
SESSION_COOKIE_NAME = cookie_name("sessionid", secure=SESSION_COOKIE_SECURE)
CSRF_COOKIE_NAME = cookie_name("csrftoken", secure=CSRF_COOKIE_SECURE)
JWT_ACCESS_COOKIE = cookie_name("access_token", secure=JWT_COOKIE_SECURE)
JWT_REFRESH_COOKIE = cookie_name("refresh_token", secure=JWT_COOKIE_SECURE, host_only=False)

# --- App tunables --------------------------------------------------------------
# Defaults and meaning: each app's conf.py; only the ones the environment sets are declared here.
_APP_TUNABLES = {
    env.str: (
        "LOGIN_RATELIMIT_USERNAME LOGIN_RATELIMIT_IP SIGNUP_RATELIMIT_IP LAB_RATELIMIT_IP"
        " PASSWORD_RESET_RATELIMIT_IP PASSWORD_RESET_RATELIMIT_EMAIL VERIFIER_URL"
    ),
    env.int: (
        "PASSWORD_HASH_CONCURRENCY SESSION_IDLE_TIMEOUT SESSION_ABSOLUTE_LIFETIME USER_SNAPSHOT_SECONDS"
        " SESSION_REMEMBER_IDLE_TIMEOUT SESSION_REMEMBER_ABSOLUTE_LIFETIME SESSION_ACTIVITY_UPDATE_INTERVAL"
        " EMAIL_CONFIRMATION_TIMEOUT JWT_REFRESH_REUSE_GRACE NEAR_CACHE_MAX_ENTRIES REAUTH_SECONDS"
        " JWT_VERIFIED_CACHE_SIZE"
    ),
    env.bool: "JWT_STATELESS",
    env.float: "VERIFIER_TIMEOUT CACHE_BREAKER_SECONDS CACHE_EPOCH_SYNC_SECONDS NEAR_CACHE_SECONDS"
    " NEAR_CACHE_STALE_SECONDS",
}
globals().update(
    {name: read(name) for read, names in _APP_TUNABLES.items() for name in names.split() if name in env}
)

SPECTACULAR_SETTINGS = {
    "TITLE": "authdemo API",
    "DESCRIPTION": "Session and JWT authentication side by side.",
    "VERSION": "1.0.0",
    # The contract lists /api/schema/ and /api/docs/ (public) as endpoints: document them too.
    "SERVE_INCLUDE_SCHEMA": True,
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
    "loggers": {"authdemo.security": {"level": "INFO"}},  # lockouts, token reuse, revocations
}
