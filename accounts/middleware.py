"""Django's session and auth middleware: a deleted session is "logged out", the user from its snapshot."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from accounts.backends import session_in_scope
from authdemo.outage import SERVICE_ERRORS, outage_response


class SessionMiddleware(DjangoSessionMiddleware):
    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted:
            # The row went away during the request (logout elsewhere, a
            # revocation, another process): the browser is logged out. Django
            # answers 400 here, and kept answering it on every request while a
            # cached copy of the session lived on; drop the cookie instead.
            response.delete_cookie(
                settings.SESSION_COOKIE_NAME,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            patch_vary_headers(response, ("Cookie",))
            return response
        except SERVICE_ERRORS as exc:
            # The view answered, but saving the session hit a database outage.
            return outage_response(request, exc)


def _request_user(request):
    with session_in_scope(request.session):
        return auth.get_user(request)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the request's session in scope of get_user() (accounts.backends: the user snapshot)."""

    def process_request(self, request):
        super().process_request(request)  # Django's checks (session middleware present)
        # ``session_user()`` returns the user itself (loaded once), for code
        # that would otherwise read every attribute through the lazy proxy.
        request.session_user = functools.cache(lambda: _request_user(request))
        request.user = SimpleLazyObject(request.session_user)
