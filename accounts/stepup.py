"""Step-up on the session side: a sensitive page needs a recent authentication, else a re-authentication page.

The rule is accounts.assurance's (REAUTH_SECONDS); the session records its
assurance at login (accounts.signals) and is upgraded in place by the
re-authentication page (REAUTH_URL, the mfa app's).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url

from accounts.assurance import assurance_stepped_up, session_assurance, session_assurance_set


def session_is_fresh(request: HttpRequest) -> bool:
    """Return whether the request's session authenticated recently enough for a sensitive action."""
    proven = session_assurance(request.session)
    return proven is not None and proven.is_fresh()


def session_step_up(request: HttpRequest, *, method: str) -> None:
    """Upgrade the session in place after a re-authentication with ``method``: auth_time now, a new key."""
    # An authentication gets a new session id (OWASP ASVS 5.0 V7.2.4).
    request.session.cycle_key()
    proven = assurance_stepped_up(session_assurance(request.session), method=method)
    session_assurance_set(request.session, proven)


def reauthenticate_redirect(request: HttpRequest, *, next_url: str | None = None) -> HttpResponseRedirect:
    """Return a redirect to the re-authentication page, which comes back to ``next_url`` (this page)."""
    query = urlencode({"next": next_url or request.get_full_path()})
    return HttpResponseRedirect(f"{resolve_url(settings.REAUTH_URL)}?{query}")


class ReauthenticationRequiredMixin:
    """A view every request of which needs a recent authentication (OWASP ASVS 5.0 V7.5.1)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not session_is_fresh(request):
            return reauthenticate_redirect(request)
        return super().dispatch(request, *args, **kwargs)
