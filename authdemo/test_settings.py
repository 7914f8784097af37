"""Settings for the test suite: the project's settings plus speed and test-client needs.

Database and cache still follow DATABASE_URL / REDIS_URL, so the same suite
runs embedded and in services mode.
"""

from authdemo.settings import *  # noqa: F403
from authdemo.varfiles import var_secret_read

# Without DJANGO_SECRET_KEY, the embedded default's key whatever DJANGO_DEBUG
# says: `make test` runs init_secrets first; tests/conftest.py stops the run
# with that command's name when it has not run.
if not SECRET_KEY:  # noqa: F405
    SECRET_KEY_FILE = VAR_DIR / "secret_key"  # noqa: F405
    SECRET_KEY = var_secret_read(SECRET_KEY_FILE)

# Fast hashing: tests create many users; Argon2 is tested on its own.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The test client speaks plain HTTP; production transport settings are
# asserted in their own tests.
SECURE_SSL_REDIRECT = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# SQLite: the test database is a file (one per test process), not shared-cache
# memory, so live-server tests see production's locking (IMMEDIATE
# transactions and the busy timeout) instead of "database table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os as _os

    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{_os.getpid()}.sqlite3")}  # noqa: F405
