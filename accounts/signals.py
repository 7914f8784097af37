"""Thin receivers: each hands one event to the session engine or the revocation service."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_delete

from accounts import services
from accounts.assurance import PWD, assurance_new, session_assurance_set
from accounts.models import Session
from accounts.sessions import session_login_stamp
from authcache.snapshots import user_snapshot_changed, user_snapshot_invalidate
from authdemo.http import client_ip


def _request_ip(request) -> str | None:
    if not request.META.get("REMOTE_ADDR"):
        return None
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def session_key_renew(request) -> None:
    """Give a session that kept its key through login() a new one, ending the old key."""
    # login() cycles the key unless the session already belongs to this user
    # (re-authentication); OWASP ASVS 5.0 V7.2.4 asks for a new session token
    # on every authentication. cycle_key() deletes the old row and tombstones
    # its cache entry (accounts.sessions.SessionStore.delete).
    sent = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if sent and request.session.session_key == sent:
        request.session.cycle_key()


def session_on_login(sender, request, user, **kwargs) -> None:
    # Every login path (form, signup, admin, force_login) stamps the session.
    if request is None or not hasattr(request, "session"):
        return
    session_key_renew(request)
    session_login_stamp(
        request.session,
        ip=_request_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    # How and when: a password, unless the login's second step records more
    # right after (ACCOUNTS_LOGIN_SECOND_STEP); step-up reads it (accounts.stepup).
    session_assurance_set(request.session, assurance_new(methods=[PWD]))


def _snapshots_invalidate(user) -> None:
    session_keys = list(Session.objects.filter(user_id=user.pk).values_list("session_key", flat=True))
    user_snapshot_invalidate(user_id=user.pk, session_keys=session_keys)


def user_on_save(sender, instance, created, update_fields=None, **kwargs) -> None:
    saved = set(update_fields) if update_fields is not None else None
    # A new or disabled password from anywhere (password change and reset
    # views, admin including "password-based authentication: disabled",
    # `manage.py changepassword`, set_unusable_password() or a hash assigned
    # in the shell) ends every session and every JWT (OWASP ASVS 5.0 V7.4.3).
    # The model compares the hash with the one last read from the database;
    # a mere hash upgrade at login is not a change. The session of the
    # request that changed its own password survives: the views then call
    # update_session_auth_hash(), which moves it to a new key.
    password_changed = (
        not created and (saved is None or "password" in saved) and instance.password_hash_changed()
    )
    if saved is None or "password" in saved:
        instance.password_hash_track()
    if created:
        return
    # Every cached copy of the user goes, in every process (authcache.snapshots):
    # names and email shown by /api/me/, flags, the session auth hash.
    if user_snapshot_changed(update_fields=saved):
        _snapshots_invalidate(instance)
    # Deactivation from anywhere (admin, shell, API) ends everything at once
    # (OWASP ASVS 5.0 V7.4.2). QuerySet.update() sends no signal: call
    # accounts.services.user_revoke_all yourself there.
    deactivated = not instance.is_active and (saved is None or "is_active" in saved)
    if password_changed or deactivated:
        services.user_revoke_all(user=instance)


def user_on_delete(sender, instance, **kwargs) -> None:
    # The rows would cascade; the cache entries and tokens would not.
    _snapshots_invalidate(instance)
    services.user_revoke_all(user=instance)


def connect() -> None:
    """Connect the receivers (called once from AccountsConfig.ready)."""
    user_model = get_user_model()
    user_logged_in.connect(session_on_login, dispatch_uid="accounts.session_on_login")
    post_save.connect(user_on_save, sender=user_model, dispatch_uid="accounts.user_on_save")
    pre_delete.connect(user_on_delete, sender=user_model, dispatch_uid="accounts.user_on_delete")
