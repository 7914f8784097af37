"""Schema-driven fuzzing (`make fuzz`): requests generated from /api/schema/ against the WSGI app.

Every operation, anonymous and with a valid bearer token: no 5xx, and every
answer conforms to the documented schema (status code, content type, body).
Not part of `make test` (testpaths is tests/); `.ci/run` runs it. The number
of examples per operation is fixed, so the run time is bounded.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

PASSWORD = "correct horse battery staple"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# pytest-django has configured Django before this module is imported.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
pytestmark = pytest.mark.django_db


@contextmanager
def _test_connection_kept():
    """Keep the test transaction's connection open across a WSGI request, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def access_token(django_user_model, client) -> str:
    django_user_model.objects.create_user(username="fuzz", email="fuzz@example.com", password=PASSWORD)
    response = client.post(
        "/api/auth/token/", {"username": "fuzz", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["access"]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_anonymous(case):
    with _test_connection_kept():
        case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_with_a_bearer_token(case, access_token):
    with _test_connection_kept():
        case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {access_token}"})
