"""Site-wide response policy: the CSP header, and private answers for responses that depend on credentials."""

from __future__ import annotations

import functools
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

CSP_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")


@functools.cache
def csp_headers() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Each CSP header to send: (name, policy, excluded path prefixes), built once from the settings.

    django-csp's ``build_policy`` turns the settings into the header's value;
    the policy is the same for every answer, so it is built once per process
    (and again when a test changes the settings), not per response.
    """
    headers = []
    for name, setting, report_only in (
        (HEADER, "CONTENT_SECURITY_POLICY", False),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
    ):
        policy = build_policy(report_only=report_only)
        if policy:
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            headers.append((name, policy, tuple(prefixes)))
    return tuple(headers)


@receiver(setting_changed)
def _csp_settings_changed(*, setting: str, **kwargs) -> None:
    if setting in CSP_SETTINGS:
        csp_headers.cache_clear()


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy of the settings on every answer (OWASP ASVS 5.0 V3.4.3).

    django-csp's settings, and its ``build_policy`` for the header's value;
    a view that needs another policy sets the header itself (an answer that
    already has one keeps it), as the CSRF lab's attacker page does. Django's
    debug pages (404 and 500 with DEBUG on) get none: they use inline styles.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        for name, policy, prefixes in csp_headers():
            if name not in response and not (prefixes and request.path_info.startswith(prefixes)):
                response[name] = policy
        return response


class PrivateResponseMiddleware:
    """Send ``Cache-Control: private, no-store`` and ``Vary`` on answers that depend on credentials.

    An answer depends on credentials when the request carries one (the
    session or a JWT cookie, an ``Authorization`` header), when a user is
    authenticated by the end of the request (a login), or when it comes from
    an API view that authenticates (its 401 for one request is not the answer
    for another). No browser or shared cache may keep such an answer or hand
    it to another user (OWASP ASVS 5.0 V14.3.2): one rule here instead of a
    header in every view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        authenticating_api = getattr(request, "_authenticating_api_view", False)
        if authenticating_api or _credentials_sent(request) or _user_authenticated(request):
            patch_cache_control(response, private=True, no_store=True)
            # API views authenticate by cookie or by bearer header; pages by cookie.
            patch_vary_headers(response, ("Cookie", "Authorization") if authenticating_api else ("Cookie",))
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # DRF's as_view() keeps the class on the view function.
        view_class = getattr(view_func, "cls", None)
        request._authenticating_api_view = bool(getattr(view_class, "authentication_classes", None))


def _credentials_sent(request: HttpRequest) -> bool:
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    names = (settings.SESSION_COOKIE_NAME, settings.JWT_ACCESS_COOKIE, settings.JWT_REFRESH_COOKIE)
    return any(name in request.COOKIES for name in names)


def _user_authenticated(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
