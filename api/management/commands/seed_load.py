"""Fill the database with seeded users, sessions and JWT logins, to measure pages and commands at size."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.seedload import logins_seed, tables_analyze, users_seed


class Command(BaseCommand):
    help = (
        "Add seeded users (seed-0000000 onwards, unusable password) and as many sessions and JWT logins "
        "(a family refreshed once: two outstanding tokens, one blacklisted) spread over them. Idempotent: "
        "re-running with the same sizes adds nothing. Refuses production settings (DEBUG off) "
        "without --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, required=True, help="seeded users (at least 1)")
        parser.add_argument("--logins", type=int, required=True, help="sessions, and as many JWT logins")
        parser.add_argument(
            "--expired", type=float, default=0.0, help="fraction of the added logins past every lifetime"
        )
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (production settings)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(
        self, *args, users: int, logins: int, expired: float, force: bool, no_progress: bool, **options
    ):
        if users < 1 or logins < 0:
            raise CommandError("--users must be at least 1 and --logins at least 0.")
        if not 0.0 <= expired <= 1.0:
            raise CommandError("--expired is a fraction between 0 and 1.")
        if not settings.DEBUG and not force:
            # Seeded accounts cannot log in, but they fill a production
            # database with rows nobody owns: only on purpose.
            raise CommandError("DEBUG is off (production settings): seed_load needs --force there.")
        started = time.monotonic()
        progress = self._no_progress if no_progress else self._progress
        user_ids, users_added = users_seed(count=users, progress=progress)
        result = logins_seed(user_ids=user_ids, count=logins, expired=expired, progress=progress)
        tables_analyze()
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"seed_load: {users_added} users, {result.sessions} sessions, {result.families} token families, "
            f"{result.outstanding} outstanding and {result.blacklisted} blacklisted tokens added "
            f"({result.sessions_expired} sessions and {result.families_expired} JWT logins of them expired) "
            f"in {elapsed:.1f} s; "
            f"{users} seeded users and {logins} of each login kind asked for."
        )

    @staticmethod
    def _no_progress(label: str, done: int, total: int) -> None:
        return None

    def _progress(self, label: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        self.stderr.write(
            f"\r{label:>10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}", ending=""
        )
        self.stderr.flush()
