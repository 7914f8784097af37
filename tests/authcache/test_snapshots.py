"""User snapshots (authcache.snapshots): a reader of an old row never caches it; saving one is safe."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from authcache import snapshots

pytestmark = pytest.mark.django_db

ME_URL = "/api/me/"


def _writer_races_the_reader(monkeypatch, capture, *, first_name: str) -> None:
    """Make the next snapshot write-back happen after a concurrent profile edit committed."""
    real = snapshots.cache_write_live
    fired = []

    def write_after_a_concurrent_change(**kwargs):
        if not fired:
            fired.append(True)
            with capture(execute=True):  # the writer's transaction commits now
                other = get_user_model().objects.get(pk=kwargs["payload"]["id"])
                other.first_name = first_name
                other.save()
        return real(**kwargs)

    monkeypatch.setattr(snapshots, "cache_write_live", write_after_a_concurrent_change)


@pytest.mark.parametrize("transport", ["session", "bearer"])
def test_snapshot_read_before_a_change_is_not_kept(
    transport, user, client, obtain, bearer, monkeypatch, django_capture_on_commit_callbacks
):
    if transport == "session":
        client.force_login(user)
    else:
        client = bearer(obtain(user)["access"])
    cache.clear()  # cold: the next request reads the row and caches its snapshot
    _writer_races_the_reader(monkeypatch, django_capture_on_commit_callbacks, first_name="Eve")
    # This request read the row before the edit: it may answer with it...
    assert client.get(ME_URL).json()["first_name"] == "Alice"
    # ...but must not have left it in the cache for the next one.
    assert client.get(ME_URL).json()["first_name"] == "Eve"


def test_profile_edit_is_shown_at_once(user, client, obtain, bearer, django_capture_on_commit_callbacks):
    token_client = bearer(obtain(user)["access"])
    client.force_login(user)
    assert token_client.get(ME_URL).json()["last_name"] == ""
    assert client.get(ME_URL).json()["last_name"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        fresh = get_user_model().objects.get(pk=user.pk)
        fresh.last_name = "Liddell"
        fresh.save()
    assert token_client.get(ME_URL).json()["last_name"] == "Liddell"
    assert client.get(ME_URL).json()["last_name"] == "Liddell"


def test_snapshot_user_never_writes_a_field_it_did_not_load(user, password):
    snapshot = snapshots.user_snapshot_make(user)
    cached = snapshots.user_from_snapshot(snapshot, user_id=user.pk)
    assert "password" not in cached.__dict__  # deferred, not in the cache
    assert "password" not in str(snapshot) and user.password not in str(snapshot.values())
    cached.first_name = "Al"
    cached.save()
    stored = get_user_model().objects.get(pk=user.pk)
    assert stored.first_name == "Al"
    assert stored.check_password(password), "the password hash was left alone"
    assert cached.get_session_auth_hash() == stored.get_session_auth_hash()


def test_snapshot_of_another_user_or_secret_key_is_not_used(user, settings):
    snapshot = snapshots.user_snapshot_make(user)
    assert snapshots.user_from_snapshot(snapshot, user_id=user.pk + 1) is None
    settings.SECRET_KEY = "another secret key, rotated " + "x" * 40
    assert snapshots.user_from_snapshot(snapshot, user_id=user.pk) is None


@pytest.mark.skipif(
    "redis" in __import__("django.conf").conf.settings.CACHES["default"]["BACKEND"].lower(),
    reason="embedded default: the stamp file epoch",
)
def test_entries_left_by_an_older_epoch_are_replaced_once(
    user, client, obtain, bearer, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from authcache.live import cache_epoch_bump

    token_client = bearer(obtain(user)["access"])
    client.force_login(user)
    for each in (token_client, client):
        assert each.get(ME_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        cache_epoch_bump()  # any revocation, by any process, moves the stamp
    for each in (token_client, client):
        assert each.get(ME_URL).status_code == 200  # re-read from the database once...
    for each in (token_client, client):
        with django_assert_num_queries(0):  # ...and cached again, not a miss until expiry
            assert each.get(ME_URL).status_code == 200


def test_a_snapshot_user_is_built_by_from_db_with_the_rest_deferred(user, monkeypatch):
    snapshot = snapshots.user_snapshot_make(user)
    model = get_user_model()
    calls = []
    real = model.from_db.__func__

    def own_from_db(cls, db, field_names, values):
        calls.append(field_names)
        return real(cls, db, field_names, values)

    monkeypatch.setattr(model, "from_db", classmethod(own_from_db))
    built = snapshots.user_from_snapshot(snapshot, user_id=user.pk)
    assert calls and "password" not in calls[0]
    assert type(built) is model and built == user and built.is_authenticated
    deferred = {"password", "username_key", "username_skeleton", "username_lookalike_rank"}
    assert built.get_deferred_fields() == deferred
    assert built._state.adding is False and built._state.db == "default"
    assert built.password_hash_changed() is False
    assert built.get_session_auth_hash() == user.get_session_auth_hash()


def test_a_deleted_user_is_refused_at_once_even_by_the_stateless_mode(
    user, obtain, bearer, settings, django_capture_on_commit_callbacks
):
    settings.JWT_STATELESS = True
    client = bearer(obtain(user)["access"])
    for _ in range(2):  # the snapshot is cached, then read warm
        assert client.get(ME_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        get_user_model().objects.get(pk=user.pk).delete()
    response = client.get(ME_URL)
    assert (response.status_code, response.json()["code"]) == (401, "user_inactive")


def test_the_version_key_outlives_every_snapshot_it_guards(user):
    # A reader compares the version before and after its database read; if
    # the key expired in between, a stale snapshot would look current.
    from authcache.conf import setting
    from authcache.live import cache_shared

    if not cache_shared():
        pytest.skip("services mode: the embedded default has no version key")
    user.first_name = "Alicia"
    user.save()
    seconds = setting("USER_SNAPSHOT_SECONDS")
    assert seconds < cache.ttl(snapshots.user_version_key(user.pk)) <= 2 * seconds


def test_snapshots_written_together_expire_spread_over_the_second_half_of_their_life(settings):
    settings.USER_SNAPSHOT_SECONDS = 600
    lifetimes = [snapshots.snapshot_seconds() for _ in range(300)]
    assert min(lifetimes) >= 300 and max(lifetimes) <= 600
    assert len(set(lifetimes)) > 100  # not one shared moment
    settings.USER_SNAPSHOT_SECONDS = 1
    assert {snapshots.snapshot_seconds() for _ in range(20)} == {1}


def test_a_filled_snapshot_lives_within_the_bound(user):
    from authcache.conf import setting
    from authcache.live import cache_shared

    if not cache_shared():
        pytest.skip("services mode: Redis tells an entry's time to live")
    assert snapshots.user_cached(user.pk) == user
    seconds = setting("USER_SNAPSHOT_SECONDS")
    assert seconds // 2 - 1 <= cache.ttl(snapshots.user_snapshot_key(user.pk)) <= seconds
