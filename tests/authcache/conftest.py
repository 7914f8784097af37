"""Fixtures of the cache layer's tests: the JWT side's token helpers."""

from tests.api.conftest import bearer, obtain  # noqa: F401
