"""Delete what can no longer matter: expired token families with all their rows, then stray expired tokens.

A family row is the denylist entry of a login; once its newest refresh token
has expired (plus the verification leeway) no token of it can pass, so the
family goes with its outstanding tokens, their family links and blacklist
rows (docs/maintenance.md, "Pruning"). Then expired refresh tokens outside
an expired family go (old rotations of a login still in use, tokens issued
outside any family). Run it daily (cron, systemd timer); it is idempotent.
How the batches are cut and locked: api/pruning.py.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.pruning import BATCH, GRACE, PAUSE, families_expired_delete, tokens_expired_delete


class Command(BaseCommand):
    help = "Prune expired token families with their tokens and blacklist rows, then other expired tokens."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=BATCH, help=f"families (or tokens) per transaction ({BATCH})"
        )
        parser.add_argument(
            "--pause-ms",
            type=int,
            default=int(PAUSE / timedelta(milliseconds=1)),
            help="sleep between batches, for concurrent requests "
            f"({int(PAUSE / timedelta(milliseconds=1))} ms; 0: none)",
        )

    def handle(self, *args, batch_size: int, pause_ms: int, verbosity: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not 0 <= pause_ms <= 60_000:
            raise CommandError("--pause-ms must be between 0 and 60000.")
        started = time.monotonic()
        cutoff = timezone.now() - GRACE
        pause = timedelta(milliseconds=pause_ms)

        def progress(label: str, done: int) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  {label}: {done} deleted")

        batches = {"cutoff": cutoff, "batch_size": batch_size, "pause": pause, "progress": progress}
        families = families_expired_delete(**batches)
        tokens = tokens_expired_delete(**batches)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {families} expired token families (with their tokens) and {tokens} other expired "
                f"tokens pruned in {time.monotonic() - started:.1f} s."
            )
        )
