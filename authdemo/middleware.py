"""Site-wide response policy: private answers for responses that depend on credentials."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers


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
