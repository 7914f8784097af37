"""The admin and second factors: listed (never a secret), reset with change permission, logged."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.mfahelpers import enrol

pytestmark = pytest.mark.django_db


def test_user_pages_list_factors_never_secrets_and_no_device_admin(admin_client, user):
    secret, codes = enrol(user)
    change = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert "Authenticator app (confirmed)" in change and "Recovery codes (10 left)" in change
    assert secret not in change and TOTPDevice.objects.get(user=user).key not in change
    assert not any(code in change for code in codes)
    listing = admin_client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "2FA" in listing
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert admin_client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_reset_button_and_action_remove_factors_end_logins_and_log(admin_client, user, user_factory, caplog):
    enrol(user)
    bob = user_factory(username="bob")
    enrol(bob)
    alice_browser = Client()
    alice_browser.force_login(user)
    with caplog.at_level(logging.WARNING, logger="authdemo.security"):
        response = admin_client.post(reverse("admin:accounts_user_mfa_reset", args=[user.pk]))
    assert response.status_code == 302
    assert (
        not TOTPDevice.objects.filter(user=user).exists()
        and not StaticDevice.objects.filter(user=user).exists()
    )
    assert alice_browser.get(reverse("accounts:profile")).status_code == 302
    assert any("second factors reset by admin" in r.getMessage() for r in caplog.records)
    assert admin_client.get(reverse("admin:accounts_user_mfa_reset", args=[bob.pk])).status_code == 405
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factors", "_selected_action": [bob.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=bob).exists()


def test_reset_needs_change_permission(client, user, user_factory, password):
    enrol(user)
    viewer = user_factory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    assert client.post(reverse("admin:accounts_user_mfa_reset", args=[user.pk])).status_code == 403
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factors", "_selected_action": [user.pk]},
    )
    assert response.status_code in (200, 302, 403)
    assert TOTPDevice.objects.filter(user=user).exists()
    assert (
        "reset_second_factors" not in client.get(reverse("admin:accounts_user_changelist")).content.decode()
    )
