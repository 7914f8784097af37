"""Health check for load balancers: is the database up, is the cache up (GET /api/health/, anonymous)."""

from __future__ import annotations

from django.db import connections
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from authcache.guard import cache_available


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text='"ok"; "degraded" (only the cache is down: the site serves, logins answer 503); "error"'
    )
    database = serializers.CharField(help_text='"ok" or "error"')
    cache = serializers.CharField(help_text='"ok" or "error"')


class HealthErrorSerializer(HealthSerializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class HealthView(APIView):
    """Database and cache health for load balancers (anonymous)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        summary="Health for load balancers: database and cache",
        responses={
            200: HealthSerializer,
            503: OpenApiResponse(
                HealthErrorSerializer,
                description="A dependency is down; the failing part says error",
                examples=[
                    OpenApiExample(
                        "cache down",
                        value={
                            "status": "degraded",
                            "database": "ok",
                            "cache": "error",
                            "detail": "Unavailable: cache",
                            "code": "service_unavailable",
                        },
                    )
                ],
            ),
        },
        examples=[
            OpenApiExample("ok", value={"status": "ok", "database": "ok", "cache": "ok"}, response_only=True)
        ],
    )
    def get(self, request):
        parts = {"database": _database_ok(), "cache": _cache_ok()}
        body = {"status": "ok", **{name: "ok" if ok else "error" for name, ok in parts.items()}}
        failing = [name for name, ok in parts.items() if not ok]
        if not failing:
            return Response(body, headers={"Cache-Control": "no-store"})
        # With only the cache down the site still serves (authenticated
        # requests read the database; logins answer 503): "degraded". Still a
        # 503, so a load balancer can tell; docs/operations.md says whether
        # to keep such an instance in rotation.
        degraded = failing == ["cache"]
        body.update(
            status="degraded" if degraded else "error",
            detail=f"Unavailable: {', '.join(failing)}",
            code="service_unavailable",
        )
        return Response(
            body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Cache-Control": "no-store"}
        )


def _database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "down" to a load balancer
        return False


def _cache_ok() -> bool:
    return cache_available()
