"""User snapshots (accounts.snapshots): a reader of an old row never caches it; saving one is safe."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from accounts import snapshots

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
    from accounts.cachesafe import cache_epoch_bump

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


def _state_of(user) -> dict:
    """What a model instance holds, with its ModelState compared by content."""
    attrs = dict(user.__dict__)
    state = attrs.pop("_state")
    return {**attrs, "_state": (state.adding, state.db, dict(state.fields_cache))}


def _from_db(snapshot):
    model, names, _ = snapshots._user_build_plan()
    user = model.from_db("default", names, [snapshot[name] for name in names])
    user._session_auth_hash_cached = snapshot["session_hash"]
    return user


def test_a_snapshot_user_is_the_instance_from_db_builds(user, monkeypatch):
    snapshot = snapshots.user_snapshot_make(user)
    model, _, direct = snapshots._user_build_plan()
    assert direct, "the project's user model is built directly"
    reference = _from_db(snapshot)

    def not_called(*args, **kwargs):
        raise AssertionError("the direct build must not go through from_db() or __init__")

    with monkeypatch.context() as patch:  # the plan was made above: patching changes no decision
        patch.setattr(model, "from_db", classmethod(not_called))
        patch.setattr(model, "__init__", not_called)
        built = snapshots.user_from_snapshot(snapshot, user_id=user.pk)
    assert type(built) is model
    assert _state_of(built) == _state_of(reference)
    deferred = {"password", "username_key", "username_skeleton", "username_lookalike_rank"}
    assert built.get_deferred_fields() == reference.get_deferred_fields() == deferred
    assert built._state.adding is False and built._state.db == "default"
    assert built.password_hash_changed() is False
    assert built == reference and built.is_authenticated


def test_a_receiver_of_the_init_signals_still_sees_every_snapshot_user(user):
    from django.db.models.signals import post_init, pre_init

    snapshot = snapshots.user_snapshot_make(user)
    seen = []

    def pre(sender, **kwargs):
        seen.append("pre")

    def post(sender, instance, **kwargs):
        seen.append(("post", instance.username))

    for signal, receiver in ((pre_init, pre), (post_init, post)):
        signal.connect(receiver, sender=get_user_model())
        try:
            seen.clear()
            built = snapshots.user_from_snapshot(snapshot, user_id=user.pk)
            assert seen == (["pre"] if signal is pre_init else [("post", "alice")])
            assert _state_of(built) == _state_of(_from_db(snapshot))
        finally:
            signal.disconnect(receiver, sender=get_user_model())


def test_a_model_that_builds_itself_differently_is_built_by_from_db(user, monkeypatch):
    snapshot = snapshots.user_snapshot_make(user)
    model = get_user_model()
    calls = []
    real = model.from_db.__func__

    def own_from_db(cls, db, field_names, values):
        calls.append(field_names)
        return real(cls, db, field_names, values)

    monkeypatch.setattr(model, "from_db", classmethod(own_from_db))
    snapshots._user_build_plan.cache_clear()
    try:
        assert snapshots._user_build_plan()[2] is False
        built = snapshots.user_from_snapshot(snapshot, user_id=user.pk)
        assert calls and built.username == user.username
    finally:
        monkeypatch.undo()
        snapshots._user_build_plan.cache_clear()
    assert snapshots._user_build_plan()[2] is True


def test_a_model_with_its_own_init_is_built_by_from_db(user, monkeypatch):
    snapshot = snapshots.user_snapshot_make(user)
    model = get_user_model()
    calls = []
    real = model.__init__

    def own_init(self, *args, **kwargs):
        calls.append(len(args))
        real(self, *args, **kwargs)

    monkeypatch.setattr(model, "__init__", own_init)
    snapshots._user_build_plan.cache_clear()
    try:
        built = snapshots.user_from_snapshot(snapshot, user_id=user.pk)
        assert calls and built.email == user.email
    finally:
        monkeypatch.undo()
        snapshots._user_build_plan.cache_clear()
