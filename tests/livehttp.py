"""Real-HTTP helpers for the live-server and multi-process tests: one request, many at once."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import TypeVar

T = TypeVar("T")


def send(request: urllib.request.Request) -> tuple[int, bytes, Message]:
    """Return (status, body, headers) of ``request``; retry when a small listen backlog resets it."""
    for attempt in range(20):
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError(f"{request.full_url}: connection refused 20 times")


def json_request(
    url: str, *, body: dict | None = None, headers: dict | None = None, method: str | None = None
) -> urllib.request.Request:
    """Return a JSON request (POST when there is a body, else GET unless ``method`` says otherwise)."""
    data = json.dumps(body).encode() if body is not None else None
    return urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method or ("POST" if data is not None else "GET"),
    )


def parallel(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, released together by a barrier; return their results."""
    results: list[T] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(calls))

    def worker(call: Callable[[], T]) -> None:
        barrier.wait(timeout=60)
        outcome = call()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
