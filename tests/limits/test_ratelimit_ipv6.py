"""Per-client-address limits count an IPv6 client by its /64 and an IPv4-mapped address as IPv4."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from limits.ratelimit import client_ip_key, lab_action_register, login_attempt_register

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
ONE_64 = "2001:db8:1234:5678:"  # 40 addresses below differ only in their last 64 bits


def _in_64(i: int) -> str:
    return f"{ONE_64}{i:x}:{i * 7:x}:{i * 13:x}:{i + 1:x}"


class TestClientIpKey:
    @pytest.mark.parametrize(
        ("remote", "key"),
        [
            ("198.51.100.7", "198.51.100.7"),
            ("2001:db8:1234:5678:abcd::1", "2001:db8:1234:5678::/64"),
            ("2001:DB8:1234:5678:FFFF:FFFF:FFFF:FFFF", "2001:db8:1234:5678::/64"),
            ("::ffff:198.51.100.7", "198.51.100.7"),  # IPv4-mapped: the IPv4 client
            ("::1", "::/64"),
            ("fe80::1%eth0", "fe80::/64"),
            ("", "0.0.0.0"),  # no REMOTE_ADDR (unix socket): one shared bucket
            ("not-an-address", "not-an-address"),
        ],
    )
    def test_key_of_an_address(self, rf, settings, remote, key):
        settings.TRUSTED_PROXY_COUNT = 0
        assert client_ip_key(rf.post("/", REMOTE_ADDR=remote)) == key

    def test_addresses_of_one_64_share_a_key_and_the_next_64_does_not(self, rf):
        keys = {client_ip_key(rf.post("/", REMOTE_ADDR=_in_64(i))) for i in range(40)}
        assert keys == {"2001:db8:1234:5678::/64"}
        assert client_ip_key(rf.post("/", REMOTE_ADDR="2001:db8:1234:5679::1")) not in keys

    @pytest.mark.parametrize(
        ("prefix", "key"), [(48, "2001:db8:1234::/48"), (128, "2001:db8:1234:5678::1/128")]
    )
    def test_prefix_length_is_a_setting(self, rf, settings, prefix, key):
        settings.RATELIMIT_IPV6_PREFIX = prefix
        assert client_ip_key(rf.post("/", REMOTE_ADDR="2001:db8:1234:5678::1")) == key

    @pytest.mark.parametrize("prefix", [-1, 129, "64", 64.0, True, None])
    def test_a_bad_prefix_setting_is_a_configuration_error(self, rf, settings, prefix):
        settings.RATELIMIT_IPV6_PREFIX = prefix
        with pytest.raises(ImproperlyConfigured, match="RATELIMIT_IPV6_PREFIX"):
            client_ip_key(rf.post("/", REMOTE_ADDR="2001:db8::1"))
        # IPv4 clients never read it, so they are not affected by its value.
        assert client_ip_key(rf.post("/", REMOTE_ADDR="198.51.100.1")) == "198.51.100.1"

    def test_the_address_from_a_trusted_proxy_is_grouped_too(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        request = rf.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 2001:db8:1:2:3:4:5:6")
        assert client_ip_key(request) == "2001:db8:1:2::/64"
        mapped = rf.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="::ffff:203.0.113.9")
        assert client_ip_key(mapped) == "203.0.113.9"


def test_password_spray_from_one_64_is_refused_after_the_ip_limit(user_factory, settings):
    """40 usernames, 40 addresses of one /64, one password each: 429 after LOGIN_RATELIMIT_IP (30/m)."""
    settings.LOGIN_RATELIMIT_IP = "30/m"
    for i in range(40):
        user_factory(username=f"victim{i}")
    statuses = [
        APIClient(REMOTE_ADDR=_in_64(i))
        .post(TOKEN_URL, {"username": f"victim{i}", "password": "Winter2026!"}, format="json")
        .status_code
        for i in range(40)
    ]
    assert statuses == [401] * 30 + [429] * 10
    # Another /64 is another client.
    other = APIClient(REMOTE_ADDR="2001:db8:1234:9999::1")
    assert other.post(TOKEN_URL, {"username": "victim0", "password": "x"}, format="json").status_code == 401


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/admin/login/?next=/admin/", "/api/auth/cookie/login/"]
)
def test_every_login_path_counts_the_64(settings, path):
    settings.LOGIN_RATELIMIT_IP = "3/m"
    statuses = []
    for i in range(4):
        client = Client(REMOTE_ADDR=_in_64(i))
        body = {"username": f"u{i}", "password": "wrong"}
        if path.startswith("/api/"):
            statuses.append(client.post(path, body, content_type="application/json").status_code)
        else:
            statuses.append(client.post(path, body).status_code)
    assert statuses[3] == 429, statuses
    assert 429 not in statuses[:3]


def test_ipv4_mapped_and_plain_ipv4_share_one_counter(rf, settings):
    settings.LOGIN_RATELIMIT_IP = "2/m"
    settings.LOGIN_RATELIMIT_USERNAME = "100/m"
    first = login_attempt_register(rf.post("/", REMOTE_ADDR="203.0.113.5"), username="a")
    second = login_attempt_register(rf.post("/", REMOTE_ADDR="::ffff:203.0.113.5"), username="b")
    third = login_attempt_register(rf.post("/", REMOTE_ADDR="::ffff:cb00:7105"), username="c")
    assert [first.limited, second.limited, third.limited] == [False, False, True]


def test_signup_counts_the_64(password, settings):
    settings.SIGNUP_RATELIMIT_IP = "2/h"
    statuses = []
    for n in range(3):
        client = Client(REMOTE_ADDR=_in_64(n))
        data = {
            "username": f"six{n}",
            "email": f"six{n}@example.com",
            "password1": password,
            "password2": password,
        }
        statuses.append(client.post("/accounts/signup/", data).status_code)
    assert statuses == [302, 302, 429]
    assert not get_user_model().objects.filter(username="six2").exists()


def test_password_reset_counts_the_64(settings):
    settings.PASSWORD_RESET_RATELIMIT_IP = "2/h"
    settings.PASSWORD_RESET_RATELIMIT_EMAIL = "100/h"
    statuses = [
        Client(REMOTE_ADDR=_in_64(n))
        .post("/accounts/password_reset/", {"email": f"x{n}@example.com"})
        .status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert mail.outbox == []


def test_lab_actions_count_the_64(rf, settings):
    settings.LAB_RATELIMIT_IP = "2/m"
    verdicts = [lab_action_register(rf.post("/", REMOTE_ADDR=_in_64(n))).limited for n in range(3)]
    assert verdicts == [False, False, True]
    assert not lab_action_register(rf.post("/", REMOTE_ADDR="2001:db8:ffff::1")).limited
