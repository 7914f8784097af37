"""The client-IP rule (authdemo.http): REMOTE_ADDR unless trusted proxies say otherwise."""

from __future__ import annotations

import pytest

from authdemo.http import client_ip


class TestClientIp:
    def test_remote_addr_without_trusted_proxy(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        request = rf.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
        # A spoofed X-Forwarded-For changes nothing when no proxy is trusted.
        assert client_ip(request) == "198.51.100.1"

    def test_one_trusted_proxy_takes_last_hop(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        request = rf.get(
            "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9"
        )
        # "6.6.6.6" was written by the client itself; the proxy appended the real peer.
        assert client_ip(request) == "198.51.100.9"

    def test_two_trusted_proxies(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 2
        request = rf.get(
            "/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9, 10.0.0.2"
        )
        assert client_ip(request) == "198.51.100.9"

    @pytest.mark.parametrize("header", ["", "   ", "not-an-ip", ",,,", "1.2.3.4.5"])
    def test_malformed_or_short_header_falls_back(self, rf, settings, header):
        settings.TRUSTED_PROXY_COUNT = 1
        request = rf.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=header)
        assert client_ip(request) == "198.51.100.1"

    def test_ipv6_is_normalised(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="2001:DB8::0:1")
        assert client_ip(request) == "2001:db8::1"

