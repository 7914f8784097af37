"""Set-based, batched deletion of expired token families and refresh tokens (``manage.py jwt_prune``).

Each batch is one short transaction over an index range: the next
``batch_size`` expired rows by expiry (``api_tokenfamily.expires_at``, and
``api_outstanding_expires`` on SimpleJWT's table), starting where the last
batch ended, so no batch rescans the dead rows its predecessors left in the
index. The rows are locked ``FOR UPDATE SKIP LOCKED``: a refresh or a
revocation holding a family (``select_for_update``, ``UPDATE``) is never
waited on, and its rows are left for the next run; a request that comes
second waits for one batch, then finds the rows gone. Then one ``DELETE``
per table by the indexed column each foreign key uses, never Django's
collector, which would load every row to cascade. On PostgreSQL the whole
batch is one statement (data-modifying ``WITH``): no row travels to Python;
elsewhere the batch's keys do, in statements of at most
``max_query_params`` values.

A family, its outstanding tokens, their family links and blacklist rows go
in the same transaction, so no reader ever sees a token without its
blacklist row. Only rows past expiry + ``GRACE`` go: nothing that can still
pass verification (SimpleJWT's leeway) is touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connection, transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import FamilyToken, TokenFamily

# Rows per transaction: one batch of families takes well under a second.
BATCH = 5_000
# Sleep between batches: the CPU and I/O a concurrent request needs.
PAUSE = timedelta(milliseconds=50)
# Past the verification leeway of SimpleJWT (JWT_LEEWAY) with room to spare.
GRACE = timedelta(minutes=5)

Progress = Callable[[str, int], None]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _rows_delete(model, column: str, values: list) -> None:
    """Delete the rows of ``model`` whose ``column`` is in ``values``: few statements, no collector."""
    field = model._meta.get_field(column)
    prepared = [field.get_db_prep_value(value, connection) for value in values]
    step = connection.features.max_query_params or len(prepared) or 1
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), step):
            chunk = prepared[start : start + step]
            marks = ", ".join(["%s"] * len(chunk))
            # Quoted names from the models' metadata; the values go as parameters.
            sql = f"DELETE FROM {_table(model)} WHERE {_column(model, column)} IN ({marks})"  # noqa: S608
            cursor.execute(sql, chunk)


def _tokens_delete(token_ids: list) -> None:
    """Delete outstanding tokens with their blacklist rows and family links, in the caller's transaction."""
    _rows_delete(BlacklistedToken, "token", token_ids)
    _rows_delete(FamilyToken, "token", token_ids)
    _rows_delete(OutstandingToken, "id", token_ids)


def _families_delete(family_ids: list) -> None:
    step = connection.features.max_query_params or len(family_ids)
    token_ids = [
        token_id
        for start in range(0, len(family_ids), step)
        for token_id in FamilyToken.objects.filter(
            family_id__in=family_ids[start : start + step]
        ).values_list("token_id", flat=True)
    ]
    _tokens_delete(token_ids)
    _rows_delete(TokenFamily, "id", family_ids)


def _batch_portable(model, *, cutoff: datetime, start: datetime | None, size: int) -> tuple[int, object]:
    """Lock the next ``size`` expired rows of ``model``, delete them with theirs; return count, last."""
    rows = model.objects.select_for_update(skip_locked=True).filter(expires_at__lt=cutoff)
    if start is not None:
        rows = rows.filter(expires_at__gte=start)
    if model is OutstandingToken:
        rows = rows.exclude(family_link__family__expires_at__lt=cutoff)
    batch = list(rows.order_by("expires_at").values_list("pk", "expires_at")[:size])
    if batch:
        (_families_delete if model is TokenFamily else _tokens_delete)([pk for pk, _ in batch])
    return len(batch), (batch[-1][1] if batch else None)


def _batch_sql(model, start: datetime | None) -> str:
    """Return the one PostgreSQL statement of a batch: lock the range, delete every row of it, report."""
    ot, bl, ft = OutstandingToken, BlacklistedToken, FamilyToken
    after = "AND expires_at >= %s " if start is not None else ""
    if model is OutstandingToken:
        fam = TokenFamily
        after += (
            f"AND NOT EXISTS (SELECT 1 FROM {_table(ft)} JOIN {_table(fam)} "  # noqa: S608
            f"ON {_table(fam)}.{_column(fam, 'id')} = {_table(ft)}.{_column(ft, 'family')} "
            f"WHERE {_table(ft)}.{_column(ft, 'token')} = {_table(ot)}.{_column(ot, 'id')} "
            f"AND {_table(fam)}.expires_at < %s) "
        )
    batch = (
        f"SELECT {_column(model, 'id')} AS id, expires_at FROM {_table(model)} "  # noqa: S608
        f"WHERE expires_at < %s {after}ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED"
    )
    if model is TokenFamily:
        tokens = (
            f"links AS (DELETE FROM {_table(ft)} WHERE {_column(ft, 'family')} IN (SELECT id FROM batch) "  # noqa: S608
            f"RETURNING {_column(ft, 'token')} AS id), families AS (DELETE FROM {_table(model)} "
            f"WHERE {_column(model, 'id')} IN (SELECT id FROM batch)), "
        )
        source = "links"
    else:
        tokens = (
            f"links AS (DELETE FROM {_table(ft)} WHERE {_column(ft, 'token')} IN (SELECT id FROM batch)), "  # noqa: S608
        )
        source = "batch"
    return (
        f"WITH batch AS ({batch}), {tokens}"  # noqa: S608
        f"blacklist AS (DELETE FROM {_table(bl)} WHERE {_column(bl, 'token')} IN (SELECT id FROM {source})), "
        f"outstanding AS (DELETE FROM {_table(ot)} WHERE {_column(ot, 'id')} IN (SELECT id FROM {source})) "
        "SELECT count(*), max(expires_at) FROM batch"
    )


def _batch_postgresql(model, *, cutoff: datetime, start: datetime | None, size: int) -> tuple[int, object]:
    """As ``_batch_portable``, in one statement: every sub-statement sees the same locked batch."""
    params = [
        cutoff,
        *([start] if start is not None else []),
        *([cutoff] if model is OutstandingToken else []),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_batch_sql(model, start), [*params, size])
        count, last = cursor.fetchone()
    return count, last


def _batches_run(model, *, cutoff, batch_size: int, pause: timedelta, progress: Progress, label: str) -> int:
    """Delete the expired rows of ``model`` (with theirs), one transaction a batch; return how many."""
    batch = _batch_postgresql if connection.vendor == "postgresql" else _batch_portable
    done, start = 0, None
    while True:
        with transaction.atomic():
            count, last = batch(model, cutoff=cutoff, start=start, size=batch_size)
        if not count:
            return done
        done, start = done + count, last
        progress(label, done)
        time.sleep(pause.total_seconds())


def families_expired_delete(
    *, cutoff: datetime, batch_size: int = BATCH, pause: timedelta = PAUSE, progress: Progress
) -> int:
    """Delete families expired before ``cutoff`` with all their rows, ``batch_size`` a transaction."""
    return _batches_run(
        TokenFamily, cutoff=cutoff, batch_size=batch_size, pause=pause, progress=progress,
        label="token families",
    )  # fmt: skip


def tokens_expired_delete(
    *, cutoff: datetime, batch_size: int = BATCH, pause: timedelta = PAUSE, progress: Progress
) -> int:
    """Delete refresh tokens expired before ``cutoff``: old rotations of live logins, tokens of no family."""
    return _batches_run(
        OutstandingToken, cutoff=cutoff, batch_size=batch_size, pause=pause, progress=progress,
        label="outstanding tokens",
    )  # fmt: skip
