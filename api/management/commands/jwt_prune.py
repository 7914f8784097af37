"""Delete what can no longer matter: expired refresh tokens (with their blacklist rows) and expired families.

A family row is the denylist entry of a login; once its newest refresh token
has expired (plus the verification leeway) no token of it can pass, so the
row may go. Run it daily (cron, systemd timer); it is idempotent.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.models import TokenFamily

# Deleting in batches keeps each transaction (and its locks) short.
BATCH = 1000
# Past the verification leeway of SimpleJWT (JWT_LEEWAY) with room to spare.
GRACE = timedelta(minutes=5)


class Command(BaseCommand):
    help = "Prune expired refresh tokens, their blacklist rows and expired token families."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH)

    def handle(self, *args, batch_size: int, **options):
        cutoff = timezone.now() - GRACE
        tokens = self._prune(
            "outstanding tokens", OutstandingToken.objects.filter(expires_at__lt=cutoff), batch_size
        )
        families = self._prune(
            "token families", TokenFamily.objects.filter(expires_at__lt=cutoff), batch_size
        )
        self.stdout.write(self.style.SUCCESS(f"Done: {tokens} tokens and {families} families pruned."))

    def _prune(self, label: str, queryset, batch_size: int) -> int:
        total = queryset.count()
        self.stdout.write(f"{label}: {total} expired")
        done = 0
        while True:
            ids = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            with transaction.atomic():
                # Cascades to BlacklistedToken / FamilyToken rows.
                queryset.model.objects.filter(pk__in=ids).delete()
            done += len(ids)
            self.stdout.write(f"  {label}: {done}/{total} deleted")
        return done
