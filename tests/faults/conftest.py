"""Fixtures of the fault tests: an own redis-server on a spare port behind a cuttable TCP proxy."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from tests.faults.tcpproxy import TcpProxy
from tests.servers import free_port

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    """A throw-away redis-server (no persistence) that can be stopped and restarted empty on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server():
    if REDIS_SERVER is None:
        pytest.skip("needs the redis-server binary")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_proxy(redis_server):
    proxy = TcpProxy(("127.0.0.1", redis_server.port))
    yield proxy
    proxy.close()


def _cache_at(settings, port: int) -> None:
    """Point the app's cache (sessions, verdicts, login limits) at the Redis on ``port``."""
    settings.CACHES = {
        "default": {
            "BACKEND": "authcache.near.NearRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "faults",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    settings.SHARED_CACHE_ALIAS = "default"
    settings.SESSION_CACHE_ALIAS = "default"
    settings.CACHE_BREAKER_SECONDS = 0.2
    # Long: a re-sync after recovery must come from the failure, not the clock.
    settings.CACHE_EPOCH_SYNC_SECONDS = 3600


@pytest.fixture
def faulty_cache(settings, redis_proxy):
    """Point the app's cache at the proxied Redis; yield the proxy."""
    _cache_at(settings, redis_proxy.port)
    yield redis_proxy


@pytest.fixture
def direct_cache(settings, redis_server):
    """Point the app's cache at the throw-away Redis directly (no proxy thread on the way); yield it."""
    _cache_at(settings, redis_server.port)
    yield redis_server
