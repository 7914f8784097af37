"""Site-wide response policy: private answers for credentials, and the Content Security Policy header."""

from __future__ import annotations

import functools
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject


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


# Set by a view (django-csp's decorators) to change the policy of one response.
_PER_RESPONSE = (
    "_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro",
)  # fmt: skip


@functools.cache
def _site_policies() -> tuple[str, str]:
    """Return the site-wide policy and report-only policy, built once from the settings."""
    return build_policy(), build_policy(report_only=True)


@receiver(setting_changed)
def _site_policies_reset(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policies.cache_clear()


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's, with the site-wide policy built once instead of on every response.

    Every answer keeps the same header (OWASP ASVS 5.0 V3.4.3, API answers
    included); only a response that asks for a nonce or changes the policy
    pays for building its own. The rest of django-csp's rules (exempt
    responses, excluded prefixes, no nonce after the header) stay its own.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # django-csp leaves Django's debug pages alone
        policy, report_only = _site_policies()
        for header, value, exempt, setting in (
            (HEADER, policy, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, report_only, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            if not value or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = value
        # Like django-csp: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's, with the message storage made when a view or template first uses it.

    Django builds the storage on every request: it reads the messages cookie
    and makes a cookie signer, which an API request or a page that shows no
    message never needs. A storage nobody touched has nothing to store, so
    the response is left as Django would leave it.
    """

    def process_request(self, request: HttpRequest) -> None:
        def storage():
            request._message_storage_made = True
            return default_storage(request)

        request._message_storage_made = False
        request._messages = SimpleLazyObject(storage)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_message_storage_made", True) is False:
            return response
        return super().process_response(request, response)
