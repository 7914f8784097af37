"""Delete what can no longer matter: expired token families with all their rows, then stray expired tokens.

A family row is the denylist entry of a login; once its newest refresh token
has expired (plus the verification leeway) no token of it can pass, so the
family goes with its outstanding tokens, their family links and blacklist
rows: what a login and its refreshes leave behind lives at most until the
family expires (docs/operations.md, "Pruning"). Then expired refresh tokens
outside an expired family go (old rotations of a login still in use,
tokens issued outside any family). Run it daily (cron, systemd timer); it is
idempotent, and each batch is one short transaction.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import FamilyToken, TokenFamily

# Rows per transaction: short enough that no request waits long behind one.
BATCH = 10_000
# Past the verification leeway of SimpleJWT (JWT_LEEWAY) with room to spare.
GRACE = timedelta(minutes=5)


# Primary keys per DELETE statement (within SQLite's parameter limit).
CHUNK = 900


def _rows_delete(model, pks: list) -> None:
    """Delete rows of ``model`` by primary key with plain DELETE statements.

    QuerySet.delete() on a model that others point at first loads every row
    to collect cascades: at a million rows that, not the database, was the
    cost. The rows pointing here are deleted before (children first).
    """
    table, pk = model._meta.db_table, model._meta.pk
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for start in range(0, len(pks), CHUNK):
            chunk = [pk.get_db_prep_value(value, connection) for value in pks[start : start + CHUNK]]
            marks = ", ".join(["%s"] * len(chunk))
            # Quoted names of our own models; the values go as parameters.
            cursor.execute(f"DELETE FROM {qn(table)} WHERE {qn(pk.column)} IN ({marks})", chunk)  # noqa: S608


def _tokens_delete(token_ids: list) -> None:
    """Delete outstanding tokens and the rows that point at them, children first (no cascade collection)."""
    for start in range(0, len(token_ids), CHUNK):
        chunk = token_ids[start : start + CHUNK]
        BlacklistedToken.objects.filter(token_id__in=chunk).delete()
        FamilyToken.objects.filter(token_id__in=chunk).delete()
    _rows_delete(OutstandingToken, token_ids)


def families_expired_delete(*, cutoff, batch_size: int, progress) -> int:
    """Delete families expired before ``cutoff`` with their tokens, ``batch_size`` families a transaction."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                TokenFamily.objects.filter(expires_at__lt=cutoff)
                .order_by()
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return done
            _tokens_delete(
                list(FamilyToken.objects.filter(family_id__in=ids).values_list("token_id", flat=True))
            )
            _rows_delete(TokenFamily, ids)
        done += len(ids)
        progress("token families", done)


def tokens_expired_delete(*, cutoff, batch_size: int, progress) -> int:
    """Delete refresh tokens expired before ``cutoff`` that no expired family took along."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                OutstandingToken.objects.filter(expires_at__lt=cutoff)
                .order_by()
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return done
            _tokens_delete(ids)
        done += len(ids)
        progress("outstanding tokens", done)


class Command(BaseCommand):
    help = "Prune expired token families with their tokens and blacklist rows, then other expired tokens."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=BATCH, help="families (or tokens) per transaction"
        )

    def handle(self, *args, batch_size: int, verbosity: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        cutoff = timezone.now() - GRACE

        def progress(label: str, done: int) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  {label}: {done} deleted")

        families = families_expired_delete(cutoff=cutoff, batch_size=batch_size, progress=progress)
        tokens = tokens_expired_delete(cutoff=cutoff, batch_size=batch_size, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {families} expired token families (with their tokens) and {tokens} other expired "
                f"tokens pruned in {time.monotonic() - started:.1f} s."
            )
        )
