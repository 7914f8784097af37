"""Create the demo user of the embedded default and print its credentials.

``make run`` calls this on every start (only when DATABASE_URL is unset). The
password is generated once into the git-ignored var/ folder, so it is the same
on every run and never committed. With a database from DATABASE_URL the command
refuses: a real deployment gets no account with a published password.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from authdemo.varfiles import var_file_read_or_create

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"


def embedded_database_is_default(*, database: dict | None = None) -> bool:
    """Return whether ``database`` (default: the default database) is the embedded SQLite file in var/."""
    db = settings.DATABASES["default"] if database is None else database
    return db["ENGINE"] == "django.db.backends.sqlite3" and str(db["NAME"]) == str(
        settings.VAR_DIR / "db.sqlite3"
    )


def demo_password() -> str:
    """Return the demo user's password, generating it into var/ on first use."""
    path = settings.VAR_DIR / "demo_password"
    return var_file_read_or_create(path, factory=lambda: secrets.token_urlsafe(12).encode()).decode().strip()


class Command(BaseCommand):
    help = "Create the demo user if absent (embedded SQLite default only) and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Create nothing; warn if the demo user of `make run` can log in here (`make serve`).",
        )

    def handle(self, *args, **options):
        if options["check"]:
            self._check()
            return
        if not embedded_database_is_default():
            raise CommandError(
                "The demo user exists only in the embedded default (no DATABASE_URL); "
                "create real accounts with `manage.py createsuperuser` or the signup page."
            )
        password = demo_password()
        User = get_user_model()
        user = User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": DEMO_USERNAME}).first()
        if user is None:
            user = User.objects.create_user(
                username=DEMO_USERNAME, email=DEMO_EMAIL, password=password, first_name="Demo"
            )
            self.stdout.write(self.style.SUCCESS("Created the demo user."))
        self.stdout.write(f"Demo user: {DEMO_USERNAME}  password: {password}")
        if not user.is_active:
            self.stdout.write(self.style.WARNING("The demo user is deactivated; reactivate it in /admin/."))
        elif not user.check_password(password):
            # Someone changed it (password change or reset): say so rather than print a stale one.
            self.stdout.write(
                self.style.WARNING(
                    "The demo user's password was changed since it was created, so the one above no "
                    "longer works; set it again with `.venv/bin/python manage.py changepassword demo`."
                )
            )

    def _check(self) -> None:
        """Warn when the demo user can log in with its var/ password (`make serve` after `make run`)."""
        path = settings.VAR_DIR / "demo_password"
        if not path.exists():
            return
        User = get_user_model()
        user = User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": DEMO_USERNAME}).first()
        if user is not None and user.is_active and user.check_password(path.read_text().strip()):
            self.stderr.write(
                self.style.WARNING(
                    f"WARNING: the demo user of `make run` can log in here with the password in {path}. "
                    "Deactivate or delete it (/admin/) before serving real users, or use DATABASE_URL."
                )
            )
