"""The cache every process of the site shares: Redis with REDIS_URL, else the database (atomic counters).

What one request stores for a later request, which another worker process
may serve, lives here: login and action rate-limit counters, lab records and
the last login's measured cost. The hot path (session data, token verdicts,
user snapshots) stays in the "default" cache, per process without Redis,
where the revocation stamp file keeps it honest (accounts.cachesafe).

Without Redis the shared cache is Django's database cache on the site's own
database (table accounts.SharedCacheEntry), made safe for counting by
several processes and threads at once (accounts.ratelimit counts with ``add``,
then ``incr``; OWASP ASVS 5.0 V6.3.1: no parallel burst gets more attempts
than the limit):

- ``incr``/``decr`` read and write the value in one transaction that holds
  the row: SQLite's IMMEDIATE transactions (settings.SQLITE_OPTIONS) take
  the database's write lock at BEGIN, other databases lock the row with
  SELECT ... FOR UPDATE. Django's own ``incr`` is a get and a set apart, so
  two parallel increments could both write the same count.
- ``add`` succeeds for exactly one of several parallel callers: a missing key
  is created by one INSERT on the primary key (the others fail and get
  False); an expired row is deleted first, under its row lock, instead of
  overwritten (two parallel overwrites would both report success). A live
  key answers False after one SELECT, the usual case of a counter.
- The expired rows a read meets are deleted only while still expired, so a
  row re-added meanwhile by another process is kept.
- Culling deletes expired rows only, never a live counter: a counter culled
  to make room would give its key a fresh count.
"""

from __future__ import annotations

import base64
import pickle
from datetime import datetime

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now


def shared_cache() -> BaseCache:
    """Return the cache every process of the site shares (settings.SHARED_CACHE_ALIAS)."""
    return caches[settings.SHARED_CACHE_ALIAS]


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache with ``add`` and ``incr`` atomic across processes (module docstring)."""

    def _sql(self):
        """Return (connection, alias, quoted table, quoted key, value and expires columns) for writing."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        return connection, db, quote(self._table), quote("cache_key"), quote("value"), quote("expires")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        connection, db, table, key_col, _, expires_col = self._sql()
        cache_key = self.make_and_validate_key(key, version=version)
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(f"SELECT {expires_col} FROM {table} WHERE {key_col} = %s", [cache_key])  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                now = tz_now()
                if self._expiry(connection, row[0]) >= now:
                    return False  # the common case of a counter: one statement, no failed INSERT
                cursor.execute(
                    f"DELETE FROM {table} WHERE {key_col} = %s AND {expires_col} < %s",  # noqa: S608
                    [cache_key, connection.ops.adapt_datetimefield_value(now)],
                )
            # Django's INSERT: of parallel callers, the primary key lets one succeed.
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        connection, db, table, key_col, value_col, expires_col = self._sql()
        lock = f" {connection.ops.for_update_sql()}" if connection.features.has_select_for_update else ""
        cache_key = self.make_and_validate_key(key, version=version)
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_col}, {expires_col} FROM {table} WHERE {key_col} = %s{lock}",  # noqa: S608
                [cache_key],
            )
            row = cursor.fetchone()
            if row is None or self._expiry(connection, row[1]) < tz_now():
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode())) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_col} = %s WHERE {key_col} = %s",  # noqa: S608
                [encoded, cache_key],
            )
        return value

    def delete(self, key, version=None):
        return self._rows_delete([self.make_and_validate_key(key, version=version)])

    def delete_many(self, keys, version=None):
        self._rows_delete([self.make_and_validate_key(key, version=version) for key in keys])

    def _base_delete_many(self, keys):
        # Django's get_many() passes the keys of the expired rows it read.
        return self._rows_delete(keys, expired_only=True)

    def _rows_delete(self, keys, *, expired_only: bool = False) -> bool:
        if not keys:
            return False
        connection, _, table, key_col, _, expires_col = self._sql()
        params = list(keys)
        where = f"{key_col} IN ({', '.join(['%s'] * len(keys))})"
        if expired_only:
            where += f" AND {expires_col} < %s"
            params.append(connection.ops.adapt_datetimefield_value(tz_now()))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
            return bool(cursor.rowcount)

    def _cull(self, db, cursor, now, num):
        connection = connections[db]
        _, _, table, _, _, expires_col = self._sql()
        cursor.execute(
            f"DELETE FROM {table} WHERE {expires_col} < %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now)],
        )

    @staticmethod
    def _expiry(connection, value) -> datetime:
        # The column as the ORM reads a DateTimeField (aware or naive, as DatabaseCache.get_many).
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        ):
            value = converter(value, expression, connection)
        return value
