"""OpenAPI document at /api/schema/ and Swagger UI at /api/docs/ (own static files, no CDN)."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.contrib.staticfiles import finders

from tests.helpers import cookies_https, cookies_plain_http

pytestmark = pytest.mark.django_db

# The JWT endpoints of docs/contract.md: (method, path).
PUBLIC_JWT_ENDPOINTS = [
    ("post", "/api/auth/token/"),
    ("post", "/api/auth/token/refresh/"),
    ("post", "/api/auth/token/verify/"),
    ("post", "/api/auth/token/revoke/"),
    ("post", "/api/auth/cookie/login/"),
    ("post", "/api/auth/cookie/refresh/"),
    ("post", "/api/auth/cookie/logout/"),
    ("post", "/api/auth/logout-all/"),
    ("post", "/api/auth/token/mfa/"),
    ("post", "/api/auth/cookie/login/mfa/"),
    ("post", "/api/auth/mfa/totp/"),
    ("delete", "/api/auth/mfa/totp/"),
    ("post", "/api/auth/mfa/totp/confirm/"),
    ("post", "/api/auth/reauthenticate/"),
    ("get", "/api/me/"),
    ("get", "/api/auth/passkeys/"),
    ("post", "/api/auth/passkeys/register/options/"),
    ("post", "/api/auth/passkeys/register/"),
    ("patch", "/api/auth/passkeys/{passkey_id}/"),
    ("delete", "/api/auth/passkeys/{passkey_id}/"),
    ("post", "/api/auth/passkeys/login/options/"),
    ("post", "/api/auth/passkeys/login/"),
    ("post", "/api/auth/cookie/passkeys/login/"),
    ("post", "/api/auth/mfa/passkey/options/"),
    ("post", "/api/auth/token/mfa/passkey/"),
    ("post", "/api/auth/cookie/login/mfa/passkey/"),
    ("patch", "/api/me/"),
    ("get", "/api/health/"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/api/schema/"),
    ("get", "/api/docs/"),
]


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3_and_anonymous(client):
    response = client.get("/api/schema/", {"format": "json"}, HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "authdemo API"


def test_schema_defaults_to_yaml(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


@pytest.mark.parametrize(("method", "path"), PUBLIC_JWT_ENDPOINTS)
def test_schema_lists_every_endpoint_of_the_contract(schema, method, path):
    assert path in schema["paths"], sorted(schema["paths"])
    assert method in schema["paths"][path]


def test_schema_has_bearer_and_cookie_security_schemes(client, settings):
    cookies_https(settings)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["jwtBearer"]["description"],
    }
    assert schemes["jwtCookie"]["type"] == "apiKey"
    assert schemes["jwtCookie"]["in"] == "cookie"
    # This deployment's names (Secure cookies here: prefixed); the descriptions name both forms.
    assert schemes["jwtCookie"]["name"] == "__Host-access_token"
    assert schemes["session"]["in"] == "cookie" and schemes["session"]["name"] == "__Host-sessionid"
    assert (
        "`__Host-access_token` (HTTPS) or `access_token` (plain HTTP)" in schemes["jwtCookie"]["description"]
    )
    assert "`__Host-sessionid` (HTTPS) or `sessionid` (plain HTTP)" in schemes["session"]["description"]
    refresh = schema["paths"]["/api/auth/cookie/refresh/"]["post"]["description"]
    assert "`__Secure-refresh_token` (HTTPS) or `refresh_token` (plain HTTP)" in refresh


def test_schema_names_the_plain_cookies_on_plain_http(client, settings):
    cookies_plain_http(settings)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtCookie"]["name"] == "access_token"
    assert schemes["session"]["name"] == "sessionid"


def test_me_accepts_every_mechanism_in_the_schema(schema):
    security = schema["paths"]["/api/me/"]["get"]["security"]
    names = {name for requirement in security for name in requirement}
    assert {"jwtBearer", "jwtCookie", "session"} <= names


def test_jwks_and_docs_need_no_authentication_in_the_schema(schema):
    for path in ("/.well-known/jwks.json", "/api/schema/", "/api/docs/"):
        operation = schema["paths"][path]["get"]
        assert operation.get("security", []) in ([], [{}])


def test_every_operation_documents_its_responses(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                assert operation["responses"], f"{method} {path}"


def test_swagger_ui_is_served_from_own_static_files_without_any_external_host(client):
    response = client.get("/api/docs/", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assets = [ref for ref in references if ref.endswith((".js", ".css"))]
    assert any("swagger-ui-bundle" in ref for ref in assets), references
    # Own static files, the init script from this same view, the link back home.
    for ref in references:
        assert ref.startswith(("/static/", "/api/docs/?script")) or ref == "/", ref
    # No absolute URL to another host anywhere in the page (no CDN, no fonts).
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), re.findall(
        r"(?:https?:)?//[^\s\"'<>]+", html
    )
    # The init script points Swagger UI at our schema.
    script = client.get("/api/docs/?script").content.decode()
    assert "/api/schema/" in script
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", script, re.IGNORECASE)


def test_swagger_ui_assets_exist_in_the_static_files():
    for asset in (
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ):
        assert finders.find(asset), asset


def test_schema_generates_without_warnings_or_errors():
    """Schema warnings are system-check warnings: `check --deploy --fail-level WARNING` needs none."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull, stdout=out, stderr=out)


def test_system_checks_report_no_schema_warning():
    from django.core import checks

    messages = [
        m
        for m in checks.run_checks(include_deployment_checks=True)
        if m.id and m.id.startswith("drf_spectacular")
    ]
    assert messages == []


def test_docs_page_options_is_a_405_not_a_500(client):
    response = client.options("/api/docs/")
    assert response.status_code == 405


def test_a_browser_opening_the_schema_sees_it_as_text(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    shown = client.get("/api/schema/", HTTP_ACCEPT=browser)
    assert shown.status_code == 200
    assert shown["Content-Type"] == "text/plain; charset=utf-8"
    assert shown.content.decode().startswith("openapi:")
    assert "Accept" in shown["Vary"]
    tool = client.get("/api/schema/", HTTP_ACCEPT="*/*")
    assert tool["Content-Type"].startswith("application/vnd.oai.openapi")
    assert tool.content == shown.content
    assert client.get("/api/schema/?format=json", HTTP_ACCEPT=browser)["Content-Type"].startswith(
        "application/vnd.oai.openapi+json"
    )


def test_me_patch_documents_the_email_confirmation_answer(schema):
    operation = schema["paths"]["/api/me/"]["patch"]
    assert {"200", "202", "400", "401", "403"} <= set(operation["responses"])
    accepted = operation["responses"]["202"]["content"]["application/json"]
    ref = accepted["schema"]["$ref"].rsplit("/", 1)[1]
    component = schema["components"]["schemas"][ref]
    assert set(component["properties"]) == {"detail", "code", "user"}
    assert set(component["required"]) == {"detail", "code", "user"}
    example = next(iter(accepted["examples"].values()))["value"]
    assert example["code"] == "email_confirmation_sent"
    assert set(example["user"]) == {"id", "username", "email", "first_name", "last_name", "auth"}
    assert "202" in operation["description"] and "email_confirmation_sent" in operation["description"]


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/cookie/login/"])
def test_logins_document_the_device_cookie(schema, path):
    description = schema["paths"][path]["post"]["description"]
    assert "`device`" in description
    assert "`__Host-device`" in description


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/cookie/login/"])
def test_logins_document_the_mfa_required_answer(schema, path):
    answer = schema["paths"][path]["post"]["responses"]["401"]
    assert "mfa_required" in answer["description"]
    examples = answer["content"]["application/json"]["examples"]
    assert any(example["value"].get("code") == "mfa_required" for example in examples.values())
