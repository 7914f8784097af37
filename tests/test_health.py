"""GET /api/health/ (authdemo.health): database and cache state for load balancers."""

from __future__ import annotations

import pytest
from django.db import DatabaseError
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_ok(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_health_ignores_bad_credentials(api_client):
    response = api_client.get("/api/health/", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200


def test_health_names_failing_database(api_client, monkeypatch):
    def broken(self):
        raise DatabaseError("down")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", broken)
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "error" and body["cache"] == "ok" and body["status"] == "error"
    assert body["code"] == "service_unavailable" and "database" in body["detail"]


def test_health_names_failing_cache(api_client, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "set", broken)
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["cache"] == "error" and body["database"] == "ok"
    assert "cache" in body["detail"]


def test_health_keeps_its_public_path():
    # Load balancers probe this literal path; it is exempt from the HTTPS redirect.
    assert reverse("health") == "/api/health/"
