"""Errors of the API: every one is JSON with ``detail`` and ``code``, whatever raised it."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from authdemo.outage import SERVICE_ERRORS, outage_response

logger = logging.getLogger("django.request")


def _code_of(codes) -> str:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, list) and codes:
        return _code_of(codes[0])
    if isinstance(codes, dict):
        if "code" in codes:
            return _code_of(codes["code"])
        for value in codes.values():
            return _code_of(value)
    return "error"


def api_exception_handler(exc, context):
    """Return DRF's response reshaped to ``{"detail", "code", ...}``; a JSON 500 for the unexpected."""
    if isinstance(exc, SERVICE_ERRORS):
        # A database or cache outage: 503 JSON, one log line (authdemo.outage).
        return outage_response(context["request"], exc)
    response = exception_handler(exc, context)
    if response is None and isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body too large.", "code": "request_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if response is None and isinstance(exc, SuspiciousOperation):
        return Response({"detail": "Bad request.", "code": "bad_request"}, status=status.HTTP_400_BAD_REQUEST)
    if response is None:
        logger.error("Unhandled exception in API view", exc_info=exc)
        return Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    data = response.data
    if isinstance(exc, ValidationError):
        # One stable code for every validation failure; the per-field codes are in "errors".
        response.data = {"detail": "Invalid input.", "code": "invalid", "errors": data}
        return response
    if isinstance(data, dict) and isinstance(data.get("detail"), dict):
        # SimpleJWT nests {"detail": {"detail", "code", "messages"}} in some errors.
        data = data["detail"]
    if isinstance(data, dict):
        body = {key: value for key, value in data.items() if key != "messages"}
        body["detail"] = str(data.get("detail", "Error."))
        body["code"] = str(data.get("code") or _code_of(getattr(exc, "get_codes", lambda: "error")()))
        response.data = body
    else:
        response.data = {"detail": str(data), "code": _code_of(getattr(exc, "get_codes", lambda: "error")())}
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    """Return the 404: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


@csrf_exempt  # a 404 changes nothing: an unknown path answers 404 to every method, cookies or not
def api_not_found(request, *args, **kwargs):
    """Return the JSON 404 of an unknown /api/ path, whatever DEBUG says."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def handler400(request, exception=None):
    """Return the 400 (e.g. a disallowed Host header): JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    """Return the 403: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Permission denied.", "code": "permission_denied"}, status=403)
    return defaults.permission_denied(request, exception)


def handler500(request):
    """Return the 500: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
