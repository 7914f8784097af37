"""Database outage: 503 with a JSON body on the API, a plain page on the HTML side, one log line per
failed request, no traceback, and recovery without a restart."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from tests.faults.tcpproxy import TcpProxy
from tests.livehttp import json_request, send
from tests.servers import database_url, gunicorn_running

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def database_down(monkeypatch):
    def broken(self, *args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", broken)


@pytest.mark.django_db
def test_api_and_pages_answer_503_with_one_log_line(client, user, caplog, database_down):
    bearer_client = Client()
    with caplog.at_level(logging.INFO):
        api = bearer_client.post(
            "/api/auth/token/", {"username": "alice", "password": "x"}, content_type="application/json"
        )
        caplog_api = [r for r in caplog.records if r.levelno >= logging.WARNING]
        caplog.clear()
        page = client.post("/accounts/login/", {"username": "alice", "password": "x"})
        caplog_page = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert api.status_code == 503
    assert api.json() == {"detail": api.json()["detail"], "code": "service_unavailable"}
    assert int(api["Retry-After"]) > 0
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert b"Traceback" not in page.content and b"OperationalError" not in page.content
    for records in (caplog_api, caplog_page):
        assert len(records) == 1, [r.getMessage() for r in records]
        assert records[0].name == "authdemo.outage" and records[0].exc_info is None
        assert "database" in records[0].getMessage()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="PostgreSQL outage: needs DATABASE_URL")
def test_postgres_cut_off_and_back_without_restart(tmp_path, user, password):
    db = connection.settings_dict
    proxy = TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "authdemo.test_settings",
        "DATABASE_URL": database_url(port=proxy.port),
        "AUTHDEMO_VAR_DIR": str(settings.VAR_DIR),
    }
    try:
        with gunicorn_running(env=env, output=log) as url:
            body = {"username": "alice", "password": password}
            status, raw, _ = send(json_request(f"{url}/api/auth/token/", body=body))
            assert status == 200
            pair = json.loads(raw)
            bearer = {"Authorization": f"Bearer {pair['access']}"}
            assert send(json_request(f"{url}/api/me/", headers=bearer))[0] == 200

            proxy.cut()
            before = len(log.read_text().splitlines())
            # A warm request needs no database (its verdict and user snapshot are
            # cached, and nothing can change them while every write fails).
            assert send(json_request(f"{url}/api/me/", headers=bearer))[0] == 200
            refresh = {"refresh": pair["refresh"]}
            status, raw, headers = send(json_request(f"{url}/api/auth/token/refresh/", body=refresh))
            assert status == 503, raw
            assert json.loads(raw)["code"] == "service_unavailable" and headers["Retry-After"]
            status, raw, _ = send(json_request(f"{url}/api/health/"))
            assert status == 503 and json.loads(raw)["database"] == "error"
            new_lines = log.read_text().splitlines()[before:]
            assert not [line for line in new_lines if "Traceback" in line], new_lines
            outage_lines = [line for line in new_lines if "service unavailable: database" in line]
            assert len(outage_lines) == 1, new_lines

            proxy.heal()  # no restart: the broken connection is replaced
            assert send(json_request(f"{url}/api/auth/token/refresh/", body=refresh))[0] == 200
            assert send(json_request(f"{url}/api/me/", headers=bearer))[0] == 200
            assert send(json_request(f"{url}/api/health/"))[0] == 200
    finally:
        proxy.close()
