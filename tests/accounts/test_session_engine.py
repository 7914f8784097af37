"""The session engine: lifetimes, cheap requests, cache as a layer over the database."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.core.cache import caches
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Session
from accounts.sessions import SessionStore, session_remember_set
from authcache.live import cache_read

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def _authenticated(client) -> bool:
    return client.get(PROFILE).status_code == 200


def _session_cache():
    return caches[settings.SESSION_CACHE_ALIAS]


def _writes(captured) -> list[str]:
    return [
        q["sql"] for q in captured if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}
    ]


def test_login_creates_a_row_with_user_ip_and_user_agent(client, user, login, clock):
    login(user, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", REMOTE_ADDR="203.0.113.7")
    row = Session.objects.get(user=user)
    assert row.session_key == client.cookies[settings.SESSION_COOKIE_NAME].value
    assert row.ip == "203.0.113.7"
    assert "Firefox" in row.user_agent
    assert row.created_at == row.last_activity == timezone.now()
    assert row.get_decoded()[SESSION_KEY] == str(user.pk)


def test_warm_cache_request_makes_no_query_and_writes_nothing(client, user, clock, django_assert_num_queries):
    client.force_login(user)
    assert _authenticated(client)
    clock.shift(timedelta(seconds=settings.SESSION_ACTIVITY_UPDATE_INTERVAL - 1))
    with django_assert_num_queries(0):  # session data and user snapshot from the cache
        assert _authenticated(client)


def test_the_idle_timeout_counts_from_the_last_written_activity_never_later(client, user, clock):
    # A request inside the interval writes nothing, so the session ends at most
    # SESSION_IDLE_TIMEOUT after its last request and at the earliest one
    # interval sooner: the idle timeout is never exceeded (ASVS V7.3.1).
    client.force_login(user)
    interval = settings.SESSION_ACTIVITY_UPDATE_INTERVAL
    clock.shift(timedelta(seconds=interval - 1))
    assert _authenticated(client)  # not written: the last written activity is the login
    clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - interval + 1))
    assert not _authenticated(client)
    assert not Session.objects.filter(user=user).exists()


def test_last_activity_is_written_at_most_once_per_interval(
    client, user, clock, settings, django_assert_max_num_queries
):
    # The user's snapshot lives between half of USER_SNAPSHOT_SECONDS and all
    # of it: here it outlives the test, so every query counted is the session's.
    settings.USER_SNAPSHOT_SECONDS = 4 * settings.SESSION_ACTIVITY_UPDATE_INTERVAL
    client.force_login(user)
    before = Session.objects.get(user=user).last_activity
    assert _authenticated(client)  # the user's snapshot cached
    clock.shift(timedelta(seconds=settings.SESSION_ACTIVITY_UPDATE_INTERVAL + 1))
    with django_assert_max_num_queries(1) as ctx:  # one UPDATE, no transaction around it
        assert _authenticated(client)
    writes = _writes(ctx.captured_queries)
    assert len(writes) == 1 and writes[0].startswith("UPDATE") and "accounts_session" in writes[0]
    row = Session.objects.get(user=user)
    assert row.last_activity == timezone.now() and row.last_activity > before
    # The idle deadline moves with it, in the row and in its data.
    assert row.expire_date == timezone.now() + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    assert row.get_decoded()["_session_activity"] == timezone.now().timestamp()
    # The next request within the interval writes nothing again.
    clock.shift(timedelta(seconds=10))
    with django_assert_max_num_queries(0) as ctx:
        assert _authenticated(client)
    assert _writes(ctx.captured_queries) == []


def test_an_activity_write_for_a_session_deleted_meanwhile_restores_nothing(client, user, clock):
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    clock.shift(timedelta(seconds=settings.SESSION_ACTIVITY_UPDATE_INTERVAL + 1))
    store = SessionStore(key)
    assert store.get(SESSION_KEY) == str(user.pk)  # loaded: the activity is due
    Session.objects.filter(session_key=key).delete()  # a logout elsewhere, meanwhile
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=key).exists()


def test_a_request_that_changes_more_than_the_activity_writes_the_whole_row(client, user, clock):
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    clock.shift(timedelta(seconds=settings.SESSION_ACTIVITY_UPDATE_INTERVAL + 1))
    store = SessionStore(key)
    session_remember_set(store, remember=True)  # the activity is due too
    store.save()
    row = Session.objects.get(session_key=key)
    assert row.remember_me and row.last_activity == timezone.now()
    assert row.expire_date == timezone.now() + timedelta(seconds=settings.SESSION_REMEMBER_IDLE_TIMEOUT)


def test_flushing_the_cache_loses_no_session(client, user, clock, django_assert_num_queries):
    client.force_login(user)
    _session_cache().clear()
    with django_assert_num_queries(2):  # the session row, then the user
        assert _authenticated(client)
    with django_assert_num_queries(0):  # the cache is warm again
        assert _authenticated(client)


def test_session_is_read_from_the_cache(client, user, clock):
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    read = cache_read(key=SessionStore.cache_key_prefix + key, alias=settings.SESSION_CACHE_ALIAS)
    assert read.live and read.value[SESSION_KEY] == str(user.pk)


@pytest.mark.parametrize(
    ("remember", "idle_setting"),
    [(False, "SESSION_IDLE_TIMEOUT"), (True, "SESSION_REMEMBER_IDLE_TIMEOUT")],
)
def test_idle_timeout_is_enforced_server_side(client, user, login, clock, remember, idle_setting):
    login(user, remember_me=remember)
    idle = getattr(settings, idle_setting)
    clock.shift(timedelta(seconds=idle - 1))
    assert _authenticated(client), "still inside the idle timeout"
    # Idle for exactly the timeout since that request (and before the absolute
    # deadline, which a remembered session reaches at twice its idle timeout).
    clock.shift(timedelta(seconds=idle))
    assert not _authenticated(client), "idle for the whole timeout"
    assert not Session.objects.filter(user=user).exists(), "the expired row is deleted at once"


@pytest.mark.parametrize(
    ("remember", "absolute_setting", "idle_setting"),
    [
        (False, "SESSION_ABSOLUTE_LIFETIME", "SESSION_IDLE_TIMEOUT"),
        (True, "SESSION_REMEMBER_ABSOLUTE_LIFETIME", "SESSION_REMEMBER_IDLE_TIMEOUT"),
    ],
)
def test_absolute_lifetime_is_enforced_even_when_active(
    client, user, login, clock, remember, absolute_setting, idle_setting
):
    login(user, remember_me=remember)
    absolute, idle = getattr(settings, absolute_setting), getattr(settings, idle_setting)
    step = idle // 2
    elapsed = 0
    while elapsed + step < absolute:
        clock.shift(timedelta(seconds=step))
        elapsed += step
        assert _authenticated(client), f"active session alive after {elapsed}s"
    clock.shift(timedelta(seconds=absolute - elapsed))
    assert not _authenticated(client)
    # The cached copy lives until the absolute deadline too: past it, the row
    # is deleted at once when the cache still holds the session (Redis keeps
    # its own time), else left expired for clearsessions; never served again.
    assert not Session.objects.filter(user=user, expire_date__gt=timezone.now()).exists()
    assert not _authenticated(client)


def test_plain_and_remember_lifetimes_differ(client, user, login, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    settings.SESSION_REMEMBER_IDLE_TIMEOUT = 6000
    login(user, remember_me=True)
    clock.shift(timedelta(seconds=1200))
    assert _authenticated(client), "remember-me survives the plain idle timeout"


def test_lifetimes_come_from_settings(client, user, login, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 120
    login(user)
    clock.shift(timedelta(seconds=121))
    assert not _authenticated(client)


def test_expire_date_is_the_earlier_deadline(client, user, login, clock):
    login(user)
    row = Session.objects.get(user=user)
    assert (row.expire_date - row.last_activity).total_seconds() == settings.SESSION_IDLE_TIMEOUT


def test_clearsessions_removes_expired_rows_and_keeps_live_ones(client, user_factory, clock):
    from django.test import Client

    old = user_factory(username="old")
    clock.shift(timedelta(days=-30))
    Client().force_login(old)
    clock.shift(timedelta(days=30))
    client.force_login(user_factory(username="fresh"))
    assert Session.objects.count() == 2
    call_command("clearsessions")
    assert list(Session.objects.values_list("user__username", flat=True)) == ["fresh"]
    assert _authenticated(client)


@pytest.mark.parametrize(
    "cookie",
    ["", "x", "a" * 32, "a" * 40, "../../etc/passwd", "' OR 1=1 --", "\u00e9" * 10, "a" * 4000],
)
def test_forged_or_random_session_cookie_is_anonymous(client, user, cookie):
    client.force_login(user)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    home = client.get("/")
    assert home.status_code == 200
    assert home.context["session_user"] is None


def test_anonymous_session_without_user_is_stored_without_user(client):
    # The password reset confirm view stores its token in an anonymous session.
    store = SessionStore()
    store["x"] = 1
    store.save()
    row = Session.objects.get(session_key=store.session_key)
    assert row.user is None and row.public_id


def test_tampered_timestamps_do_not_crash(client, user, clock):
    client.force_login(user)
    session = client.session
    session["_session_created"] = "garbage"
    session["_session_activity"] = 1e30
    session.save()
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("raw", ["aaaaaaaa\x00bbbbbbbb", "a\x00" * 20, "%00%00%00%00%00%00%00%00"])
def test_session_cookie_with_nul_bytes_is_anonymous(client, raw):
    response = client.get("/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={raw}")
    assert response.status_code == 200
    assert response.context["session_user"] is None


@pytest.mark.parametrize("path", ["/", PROFILE, reverse("accounts:sessions")])
def test_session_pages_cost_one_query_plus_their_own(
    client, user, clock, django_assert_max_num_queries, path
):
    client.force_login(user)
    client.get(path)
    # The user (+1 for the sessions list itself, +1 for the session row the
    # comparison page shows); no session read or write.
    with django_assert_max_num_queries(1 if path == PROFILE else 2) as ctx:
        assert client.get(path).status_code == 200
    assert _writes(ctx.captured_queries) == []


@pytest.mark.parametrize(
    "key, valid",
    [
        ("a" * 32, True),
        ("abcdefgh", True),
        ("0123456789" * 4, True),
        ("a" * 7, False),
        ("a" * 41, False),
        ("A" * 32, False),
        ("a" * 31 + "\n", False),
        ("a" * 31 + "-", False),
        (None, False),
        (12345678, False),
    ],
)
def test_only_keys_of_the_engines_form_are_session_keys(key, valid):
    assert SessionStore()._validate_session_key(key) is valid


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -float("inf"), 1e30, -1e30, True, "1700000000", None, [1]]
)
def test_a_stamp_no_datetime_can_hold_is_no_stamp(value):
    from accounts.sessions import session_deadline_stamps, session_deadlines

    assert session_deadline_stamps({"_session_created": value}) is None
    assert session_deadlines({"_session_created": value}) is None
    # A broken activity stamp counts from the login instead.
    idle, absolute = session_deadline_stamps({"_session_created": 1_700_000_000, "_session_activity": value})
    assert idle == 1_700_000_000 + settings.SESSION_IDLE_TIMEOUT
    assert absolute == 1_700_000_000 + settings.SESSION_ABSOLUTE_LIFETIME


@pytest.mark.parametrize("activity", [float("nan"), 1e30, True])
def test_a_session_with_a_broken_activity_stamp_is_still_checked_and_served(client, user, clock, activity):
    client.force_login(user)
    session = client.session
    session["_session_activity"] = activity
    session.save()
    assert _authenticated(client)
    # The stamp is rewritten as now: the idle timeout counts again.
    assert isinstance(client.session["_session_activity"], float)
    assert client.session["_session_activity"] < 1e12


def test_the_async_twins_keep_the_engines_rules(client, user):
    from asgiref.sync import async_to_sync

    from accounts.sessions import REVOKED_KEY

    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(key)
    # The session's data, never the cached ("live@", stamp, data) entry itself.
    assert async_to_sync(store.aload)()[SESSION_KEY] == str(user.pk)
    assert async_to_sync(store.aexists)(key) is True
    assert async_to_sync(store.aexists)("x" * 32) is False
    # A new session: its row and its live cache entry, with the engine's columns.
    fresh = SessionStore()
    fresh["cart"] = 1
    async_to_sync(fresh.asave)()
    row = Session.objects.get(session_key=fresh.session_key)
    assert row.public_id and row.created_at and row.get_decoded()["cart"] == 1
    assert cache_read(key=fresh.cache_key).live
    # A key cycle and a delete leave tombstones, which a racing reader cannot overwrite.
    async_to_sync(store.acycle_key)()
    assert store.session_key != key and not Session.objects.filter(session_key=key).exists()
    assert cache_read(key=SessionStore.cache_key_prefix + key).value == {REVOKED_KEY: True}
    assert async_to_sync(SessionStore(key).aload)() == {}
    new_key = store.session_key
    async_to_sync(store.adelete)()
    assert not Session.objects.filter(session_key=new_key).exists()
    assert cache_read(key=SessionStore.cache_key_prefix + new_key).value == {REVOKED_KEY: True}
