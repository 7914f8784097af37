"""Django's session middleware, with a session deleted meanwhile meaning "logged out" and an outage a 503."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.utils.cache import patch_vary_headers

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
