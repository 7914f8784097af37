"""Settings for `make bench`: production settings, made measurable in one process.

Everything that costs time in production stays (Argon2 hashing, the session
engine, the JWT revocation check, DEBUG off, the caches of the mode: locmem
and the shared cache's table embedded, Redis with REDIS_URL). Only what
would stop a benchmark changes: login rate limits (hundreds of logins from
one IP), plain-HTTP serving for the test client, and log noise.
"""

from authdemo.settings import *  # noqa: F403
from authdemo.varfiles import var_secret_read

DEBUG = False
if not SECRET_KEY:  # noqa: F405 (the embedded default's key, written by `manage.py init_secrets`)
    SECRET_KEY_FILE = VAR_DIR / "secret_key"  # noqa: F405
    SECRET_KEY = var_secret_read(SECRET_KEY_FILE)
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
SECURE_SSL_REDIRECT = False
LOGIN_RATELIMIT_USERNAME = "1000000/m"
LOGIN_RATELIMIT_IP = "1000000/m"
# Tokens must outlive the run (5 minutes by default).
SIMPLE_JWT = {**SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(hours=2)}  # noqa: F405
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The benchmark's own database: a file next to the embedded one (SQLite, so
# disk costs count), or test_<name> on the DATABASE_URL server; dropped at the end.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "bench.sqlite3")}  # noqa: F405
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
LOGGING["loggers"] = {"authdemo.security": {"level": "WARNING"}}
