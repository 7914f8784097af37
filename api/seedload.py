"""Bulk rows for a database at size: seeded users, their sessions and JWT logins (``manage.py seed_load``).

Each login is written as the app leaves it (accounts.sessions,
api.tokens.RefreshToken.for_user, api.rotation.token_refresh): a session
row with its signed data, and a token family refreshed once, so two
outstanding refresh tokens, both linked to the family, the first one
blacklisted, ``current_jti``/``previous_jti`` set. Only the stored refresh
token strings differ: they carry the real claims but no signature (an
unsecured JWT, RFC 7519 section 6), so a copied seeded database holds no
usable credential, and a million signatures are not paid for.

Seeded users are named ``seed-0000000`` onwards and share one unusable
password hash: nobody can log in as them. PostgreSQL is written with COPY,
other databases with ``bulk_create`` in batches.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import sessions as session_engine
from accounts.models import Session
from api.models import FamilyToken, TokenFamily
from usernames import username_canonical, username_skeleton

USERNAME_PREFIX = "seed-"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
BATCH = 10_000
# Seconds between a seeded login and its one refresh.
REFRESH_AFTER = 60

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SeedResult:
    sessions: int
    families: int
    outstanding: int
    blacklisted: int
    sessions_expired: int
    families_expired: int


def seed_username(index: int) -> str:
    """Return the username of seeded user number ``index``."""
    return f"{USERNAME_PREFIX}{index:07d}"


def seeded_users():
    """Return the queryset of seeded users."""
    return get_user_model().objects.filter(username__startswith=USERNAME_PREFIX)


def _copy(model, columns: list[str], rows: Iterable[tuple]) -> None:
    """Write ``rows`` into ``model``'s table: COPY on PostgreSQL, ``bulk_create`` elsewhere."""
    rows = list(rows)
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=500)


def _ids_reserve(model, count: int) -> list[int]:
    """Return ``count`` new primary keys of ``model`` (PostgreSQL: from its sequence)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [qn(model._meta.db_table), count],
        )
        return [row[0] for row in cursor.fetchall()]


def users_seed(*, count: int, progress: Progress) -> tuple[list[int], int]:
    """Make sure seeded users 0..count-1 exist; return their ids in order and how many were added."""
    User = get_user_model()
    existing = set(seeded_users().values_list("username", flat=True))
    missing = [i for i in range(count) if seed_username(i) not in existing]
    # One hash for every seeded user, computed once (or kept from an earlier run): an unusable one.
    password = seeded_users().values_list("password", flat=True).first() or make_password(None)
    columns = [
        "password", "is_superuser", "username", "username_key", "username_skeleton",
        "username_lookalike_rank", "first_name", "last_name", "email", "is_staff", "is_active", "date_joined",
    ]  # fmt: skip
    now = timezone.now()
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        with transaction.atomic():
            _copy(
                User,
                columns,
                (
                    (password, False, seed_username(i), username_canonical(seed_username(i)),
                     username_skeleton(seed_username(i)), 0, "", "", "", False, True, now)
                    for i in chunk
                ),
            )  # fmt: skip
        progress("users", start + len(chunk), len(missing))
    ids = dict(seeded_users().values_list("username", "pk"))
    return [ids[seed_username(i)] for i in range(count)], len(missing)


def tables_analyze() -> None:
    """Refresh PostgreSQL's planner statistics of the seeded tables (after a bulk load they are missing).

    Without them the planner guesses: a search by user over a million tokens
    walked the primary key instead of the user index (seconds, not ms).
    """
    if connection.vendor != "postgresql":
        return
    models = (get_user_model(), Session, TokenFamily, OutstandingToken, FamilyToken, BlacklistedToken)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


_UNSIGNED_HEADER = _b64({"alg": "none", "typ": "JWT"})


@dataclass(frozen=True)
class _Clock:
    """The instants of login number ``j`` of a run: live ones recent, expired ones past every lifetime."""

    now: datetime
    expired: int  # logins 0..expired-1 are expired
    first: int  # logins written by earlier runs: the numbering continues, so users stay evenly loaded
    refresh_lifetime: timedelta

    def session_times(self, j: int, *, remember: bool) -> tuple[datetime, datetime]:
        idle, absolute = session_engine.lifetimes(remember=remember)
        if j < self.expired:
            created = self.now - absolute - timedelta(hours=1, seconds=j % 86_400)
            return created, created + min(idle, absolute)
        created = self.now - min(idle, absolute) / 2 * ((j % 997) / 997)
        return created, created + min(idle, absolute)

    def family_created(self, j: int) -> datetime:
        if j < self.expired:
            return self.now - 2 * self.refresh_lifetime - timedelta(hours=1, seconds=j % 86_400)
        spread = (self.refresh_lifetime / 2).total_seconds() * ((j % 997) / 997)
        return self.now - timedelta(seconds=REFRESH_AFTER + spread)


def _session_rows(user_ids: list[int], numbers: range, clock: _Clock, auth: tuple[str, str]) -> list[tuple]:
    backend, auth_hash = auth
    store = session_engine.SessionStore()
    rows = []
    for j in numbers:
        user_id = user_ids[(clock.first + j) % len(user_ids)]
        remember = j % 4 == 0
        created, expire = clock.session_times(j, remember=remember)
        ip = f"192.0.2.{j % 254 + 1}"  # TEST-NET-1 (RFC 5737)
        stamp = created.timestamp()
        data = {
            SESSION_KEY: str(user_id), BACKEND_SESSION_KEY: backend, HASH_SESSION_KEY: auth_hash,
            session_engine.CREATED_KEY: stamp, session_engine.ACTIVITY_KEY: stamp,
            session_engine.IP_KEY: ip, session_engine.USER_AGENT_KEY: USER_AGENT,
            session_engine.REMEMBER_KEY: remember,
        }  # fmt: skip
        key = get_random_string(32, VALID_KEY_CHARS)
        rows.append(
            (session_engine.public_id_for(key), key, store.encode(data), expire, user_id, created, created,
             ip, USER_AGENT, remember)
        )  # fmt: skip
    return rows


SESSION_COLUMNS = [
    "public_id", "session_key", "session_data", "expire_date", "user_id", "created_at", "last_activity", "ip",
    "user_agent", "remember_me",
]  # fmt: skip


def _token_string(*, user_id: int, jti: str, family: uuid.UUID, iat: datetime, exp: datetime) -> str:
    api = jwt_settings.api_settings
    claims = {
        api.TOKEN_TYPE_CLAIM: "refresh", "exp": int(exp.timestamp()), "iat": int(iat.timestamp()),
        api.JTI_CLAIM: jti, api.USER_ID_CLAIM: str(user_id), "fam": str(family),
        "iss": api.ISSUER, "aud": api.AUDIENCE,
    }  # fmt: skip
    return f"{_UNSIGNED_HEADER}.{_b64(claims)}."


def _family_rows(user_ids: list[int], numbers: range, clock: _Clock):
    """Return the families, outstanding tokens (without ids), links and blacklist rows of ``numbers``."""
    families, tokens, blacklist = [], [], []
    for j in numbers:
        user_id = user_ids[(clock.first + j) % len(user_ids)]
        family = uuid.uuid4()
        created = clock.family_created(j)
        refreshed = created + timedelta(seconds=REFRESH_AFTER)
        first, second = uuid.uuid4().hex, uuid.uuid4().hex
        first_exp, second_exp = created + clock.refresh_lifetime, refreshed + clock.refresh_lifetime
        ip = f"198.51.100.{j % 254 + 1}"  # TEST-NET-2 (RFC 5737)
        families.append(
            (family, user_id, created, second_exp, second, first, None, "", ip, USER_AGENT,
             TokenFamily.Transport.BEARER)
        )  # fmt: skip
        for jti, iat, exp in ((first, created, first_exp), (second, refreshed, second_exp)):
            token = _token_string(user_id=user_id, jti=jti, family=family, iat=iat, exp=exp)
            tokens.append((family, (user_id, jti, token, iat, exp)))
        blacklist.append(refreshed)
    return families, tokens, blacklist


FAMILY_COLUMNS = [
    "id", "user_id", "created_at", "expires_at", "current_jti", "previous_jti", "revoked_at",
    "revoked_reason", "ip", "user_agent", "transport",
]  # fmt: skip
TOKEN_COLUMNS = ["user_id", "jti", "token", "created_at", "expires_at"]


def _tokens_write(tokens: list, blacklist: list[datetime]) -> None:
    """Write outstanding tokens, their family links and the first token of each family as blacklisted."""
    if connection.vendor == "postgresql":
        ids = _ids_reserve(OutstandingToken, len(tokens))
        _copy(
            OutstandingToken,
            ["id", *TOKEN_COLUMNS],
            ((pk, *row) for pk, (_, row) in zip(ids, tokens, strict=True)),
        )
    else:
        made = OutstandingToken.objects.bulk_create(
            [OutstandingToken(**dict(zip(TOKEN_COLUMNS, row, strict=True))) for _, row in tokens],
            batch_size=500,
        )
        ids = [token.pk for token in made]
    _copy(
        FamilyToken,
        ["token_id", "family_id"],
        ((pk, family) for pk, (family, _) in zip(ids, tokens, strict=True)),
    )
    # Every family's first token (even positions) was rotated out at its refresh.
    _copy(BlacklistedToken, ["token_id", "blacklisted_at"], zip(ids[0::2], blacklist, strict=True))


def logins_seed(
    *, user_ids: list[int], count: int, expired: float, progress: Progress, users=None
) -> SeedResult:
    """Add logins of ``user_ids`` until ``users`` have ``count`` sessions and JWT logins; return the added.

    ``users`` (default: the seeded users) is the queryset whose logins count.
    A fraction ``expired`` of the added logins lies past every lifetime.
    """
    users = seeded_users() if users is None else users
    have_sessions = Session.objects.filter(user__in=users).count()
    have_families = TokenFamily.objects.filter(user__in=users).count()
    now = timezone.now()
    refresh_lifetime = jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME
    # Every seeded user has the same password hash, so the same session auth hash.
    template = get_user_model().objects.get(pk=user_ids[0])
    auth = (settings.AUTHENTICATION_BACKENDS[0], template.get_session_auth_hash())
    added = {"s": (0, 0), "f": (0, 0)}
    for label, have, write in (("sessions", have_sessions, "s"), ("JWT logins", have_families, "f")):
        todo = max(0, count - have)
        expired_count = round(todo * expired)
        clock = _Clock(now=now, expired=expired_count, first=have, refresh_lifetime=refresh_lifetime)
        for start in range(0, todo, BATCH):
            numbers = range(start, min(todo, start + BATCH))
            with transaction.atomic():
                if write == "s":
                    _copy(Session, SESSION_COLUMNS, _session_rows(user_ids, numbers, clock, auth))
                else:
                    families, tokens, blacklist = _family_rows(user_ids, numbers, clock)
                    _copy(TokenFamily, FAMILY_COLUMNS, families)
                    _tokens_write(tokens, blacklist)
            progress(label, numbers.stop, todo)
        added[write] = (todo, expired_count)
    (sessions, sessions_expired), (families, families_expired) = added["s"], added["f"]
    return SeedResult(
        sessions=sessions,
        families=families,
        outstanding=2 * families,
        blacklisted=families,
        sessions_expired=sessions_expired,
        families_expired=families_expired,
    )
