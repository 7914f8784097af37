"""OpenAPI: the schema and Swagger UI views, and the security schemes of the project's authentication.

The Swagger UI is served from drf-spectacular-sidecar's static files
(``SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"``): no CDN, so the docs
page loads no third-party script (OWASP ASVS 5.0 V3.6.1, subresource control).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class SchemaView(SpectacularAPIView):
    """GET /api/schema/: the OpenAPI 3 document (YAML; JSON with ?format=json)."""

    @extend_schema(
        operation_id="schema",
        summary="OpenAPI 3 document of this API",
        auth=[],
        tags=["docs"],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="OpenAPI 3 document")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DocsView(SpectacularSwaggerSplitView):
    """GET /api/docs/: Swagger UI over /api/schema/, from the project's own static files.

    The split view serves the init script as a file of its own
    (/api/docs/?script), so the page runs under the site's Content Security
    Policy without 'unsafe-inline'; the template adds a link back to the site.
    """

    url_name = "api:schema"
    template_name = "api/swagger_ui.html"
    # OPTIONS would render DRF's metadata through the HTML template (a 500): 405 instead.
    metadata_class = None

    @extend_schema(
        exclude=False,
        operation_id="docs",
        summary="Swagger UI (HTML) for this API",
        auth=[],
        tags=["docs"],
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="HTML page")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Security schemes of the project's authentication classes ----------------
# Exact-class matches (match_subclasses False): the cookie class subclasses the
# bearer class and must not be described as a bearer header.


class JWTBearerScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.JWTBearerAuthentication"
    name = "jwtBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/auth/token/ in `Authorization: Bearer <token>`. "
            "No CSRF token needed.",
        }


class JWTCookieScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.JWTCookieAuthentication"
    name = "jwtCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": getattr(settings, "JWT_ACCESS_COOKIE", "access_token"),
            "description": "HttpOnly access-token cookie set by POST /api/auth/cookie/login/. Unsafe "
            "methods also need the `X-CSRFToken` header (value of the `csrftoken` cookie).",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Django session cookie from /accounts/login/. Unsafe methods also need the "
            "`X-CSRFToken` header.",
        }
