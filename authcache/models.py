"""The cache layer's two tables: the revocation epoch and the shared cache without Redis."""

from __future__ import annotations

from django.db import models


class RevocationEpoch(models.Model):
    """One row: bumped by a revocation that could not be published to the cache (authcache.live)."""

    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = "accounts_revocationepoch"
        verbose_name = "revocation epoch"

    def __str__(self) -> str:
        return f"revocation epoch {self.value}"


class SharedCacheEntry(models.Model):
    """A row of the shared cache without Redis (authcache.shared): rate-limit counters, lab records."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()  # base64 of the pickled value, as Django's database cache stores it
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "authdemo_shared_cache"
        verbose_name = "shared cache entry"
        verbose_name_plural = "shared cache entries"

    def __str__(self) -> str:
        return self.cache_key
