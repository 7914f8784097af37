"""Django's clearsessions for this engine: expired sessions deleted in batches, with progress."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.sessions import PRUNE_BATCH, sessions_expired_delete


class Command(BaseCommand):
    help = (
        "Delete expired sessions in batches (one short transaction each). Run it daily (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=PRUNE_BATCH, help="rows per transaction")

    def handle(self, *args, batch_size: int, verbosity: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()

        def progress(done: int) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  sessions: {done} deleted")

        done = sessions_expired_delete(batch_size=batch_size, progress=progress)
        self.stdout.write(
            f"clearsessions: {done} expired sessions deleted in {time.monotonic() - started:.1f} s."
        )
