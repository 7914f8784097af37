"""Views of the comparison pages: this browser's session and JWT state side by side, measured; its devices."""

from __future__ import annotations

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from rest_framework_simplejwt import settings as jwt_settings

from accounts import services as account_services
from accounts.assurance import assurance_from_claims, session_assurance
from accounts.forms import LoginForm
from accounts.paging import login_page
from accounts.sessions import public_id_for
from accounts.views import session_end
from api.cookies import cookies_clear
from authcache.near import near_cache
from compare import benchresults, selectors, services
from compare.costs import request_costs
from compare.metering import login_costs
from compare.state import jwt_access_token, jwt_user
from compare.verifier_client import PAGE_TIMEOUT, verifier_url, verifier_whoami

# (URL name, title, what it shows): the template resolves each name with {% url %}.
LABS = (
    ("lab-revocation", "Revocation lab", "end a session, revoke a JWT login, change the password: "
     "see the old credential refused at once here and accepted by a stateless verifier until exp"),
    ("lab-bearer", "Bearer playground", "a bearer pair held in page memory: obtain, call, refresh, "
     "replay an old refresh token and watch reuse detection end the login"),
    ("lab-stepup", "Step-up lab", "age your authentication, try a sensitive action, re-authenticate: "
     "the session changes in place, the JWT is replaced and an old copy keeps its claims until exp"),
    ("lab-xss-csrf", "XSS and CSRF lab",
     "what an injected script can read, and a cross-site request refused"),
)  # fmt: skip
DOCS = ("docs/sessions.md", "docs/jwt.md", "docs/jwt-keys.md", "README.md")


def _this_token(request: HttpRequest, user) -> tuple[str, object] | tuple[None, None]:
    """Return (raw, token) of this browser's access cookie when it authenticates ``user``."""
    token = jwt_access_token(request) if user is not None else None
    if token is None:
        return None, None
    return request.COOKIES[settings.JWT_ACCESS_COOKIE], token


def home(request: HttpRequest) -> HttpResponse:
    """Render the live comparison: what this browser and the server hold per strategy, and what it costs."""
    session_user = request.user if request.user.is_authenticated else None
    cookie_user = jwt_user(request)
    raw, token = _this_token(request, cookie_user)
    family = selectors.family_state(user=cookie_user, family_id=token.family_id) if token else None
    bench = benchresults.bench_results_load()
    costs = {kind.replace("-", "_"): cost for kind, cost in login_costs().items()}
    mode = "services" if settings.REDIS_URL else "embedded"
    return render(
        request,
        "compare/home.html",
        {
            "session_user": session_user,
            "jwt_cookie_user": cookie_user,
            "login_form": LoginForm(request) if session_user is None else None,
            "session_cookies": selectors.session_cookies(request),
            "jwt_cookies": selectors.jwt_cookies(request, token=token, family=family),
            "cookie_header_size": selectors.cookie_header_size(request),
            "session_state": selectors.session_state(request) if session_user else None,
            "decoded": selectors.token_decode(raw=raw, token=token) if token else None,
            "session_assurance": session_assurance(request.session) if session_user else None,
            "jwt_assurance": assurance_from_claims(token.payload) if token else None,
            # The verifier's own reading of this token, asked with a short ceiling (PAGE_TIMEOUT).
            "jwt_verifier": verifier_whoami(raw_access=raw, timeout=PAGE_TIMEOUT) if token else None,
            "verifier_timeout": min(PAGE_TIMEOUT, settings.VERIFIER_TIMEOUT),
            "family": family,
            "login_costs": costs,
            "login_writes_verdict": benchresults.login_writes_verdict(costs),
            "lifetimes": selectors.lifetimes(),
            "stateless": settings.JWT_STATELESS,
            "near_cache": near_cache(settings.SESSION_CACHE_ALIAS) is not None,
            "bench": bench,
            "bench_mode": mode,
            "bench_rows": bench.throughput(mode=mode) if bench else None,
            "server_now": int(timezone.now().timestamp()),
            "verifier_url": verifier_url(),
            "labs": LABS,
            "docs": DOCS,
        },
    )


@require_GET
@never_cache
def costs(request: HttpRequest) -> JsonResponse:
    """Return the metered cost of one /api/me/ request per credential this browser holds."""
    return JsonResponse(request_costs(request))


# --- The device list: sessions and JWT logins together ---------------------------


def _device_user(request: HttpRequest):
    """Return the user of this browser: by session, else by JWT cookie; None when neither."""
    if request.user.is_authenticated:
        return request.user
    return jwt_user(request)


def device_login_required(view):
    """Let in a user authenticated by session or by JWT cookie; send anyone else to the login page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = _device_user(request)
        if user is None:
            return redirect_to_login(request.get_full_path())
        return view(request, user, *args, **kwargs)

    return wrapped


def _current_family_id(request: HttpRequest, user) -> uuid.UUID | None:
    token = jwt_access_token(request)
    if token is None or str(token.get(jwt_settings.api_settings.USER_ID_CLAIM)) != str(user.pk):
        return None
    return token.family_id


@never_cache
@device_login_required
def devices(request: HttpRequest, user) -> HttpResponse:
    """Render every live login of the user, sessions and JWT logins, this browser's marked."""
    session_key = request.session.session_key if request.user.is_authenticated else None
    families = login_page(request, selectors.families_live(user=user), param="jwt_page")
    selectors.families_amr_mark(families)
    return render(
        request,
        "compare/devices.html",
        {
            "device_user": user,
            "sessions": login_page(request, account_services.sessions_active_list(user=user)),
            "current_session_id": public_id_for(session_key) if session_key else None,
            "families": families,
            "current_family_id": _current_family_id(request, user),
        },
    )


@require_POST
@device_login_required
def jwt_login_revoke(request: HttpRequest, user, family_id: uuid.UUID) -> HttpResponse:
    """Revoke one of the user's own JWT logins; another user's, a dead or an unknown one is 404."""
    if not services.jwt_login_revoke(user=user, family_id=family_id):
        raise Http404("No such JWT login.")
    if family_id == _current_family_id(request, user):
        response = redirect("home")
        cookies_clear(response)  # this browser's own login: its cookies are of no further use
        return response
    messages.success(request, "The JWT login has been revoked: its tokens are refused from now on.")
    return redirect("devices")


@require_POST
@device_login_required
def jwt_logins_revoke_others(request: HttpRequest, user) -> HttpResponse:
    """Revoke every JWT login of the user but this browser's."""
    count = services.jwt_logins_revoke_others(user=user, keep_family_id=_current_family_id(request, user))
    messages.success(request, f"Revoked {count} other JWT login{'s' if count != 1 else ''}.")
    return redirect("devices")


@require_POST
@device_login_required
def session_revoke(request: HttpRequest, user, public_id: str) -> HttpResponse:
    """End one of the user's own sessions; another user's (or no) session is 404."""
    if session_end(request, user=user, public_id=public_id):
        return redirect("home")
    messages.success(request, "The session has been ended.")
    return redirect("devices")


@require_POST
@device_login_required
def sessions_revoke_others(request: HttpRequest, user) -> HttpResponse:
    """End every session of the user but this browser's."""
    keep = request.session.session_key if request.user.is_authenticated else None
    count = account_services.sessions_revoke_all(user=user, keep_session_key=keep)
    messages.success(request, f"Ended {count} other session{'s' if count != 1 else ''}.")
    return redirect("devices")
