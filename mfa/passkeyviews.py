"""Passkeys on the session side: the security page (list, rename, remove), login and re-authentication.

Registering, listing and starting a ceremony go through the JSON endpoints
of the API, which the pages' script calls with the session (and its CSRF
token); the ceremonies are passkeys.services'. Logging in with a passkey is
Django's login(): a new session key (fixation) and a new CSRF token, as for
a password; re-authenticating upgrades the session in place as a password
or a code does (accounts.stepup.session_step_up).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.assurance import Assurance, session_assurance_set
from accounts.sessions import session_remember_set
from accounts.stepup import reauthenticate_redirect, session_is_fresh, session_step_up
from limits.devicecookie import device_cookie_set
from mfa import passkeyfactor
from mfa.services import CodeThrottled
from passkeys import services
from passkeys.services import PasskeyError

_STATUS = {"passkey_not_found": 404, "passkey_invalid": 401}


def _refused(exc: PasskeyError) -> JsonResponse:
    return JsonResponse({"detail": exc.message, "code": exc.code}, status=_STATUS.get(exc.code, 400))


def _throttled(exc: CodeThrottled) -> JsonResponse:
    retry_after = exc.throttle.retry_after
    response = JsonResponse({"detail": exc.throttle.message, "code": "throttled"}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _target(request: HttpRequest, target: object, *, default: str) -> str:
    """Return ``target`` if it is a URL of this site, else ``default``."""
    if isinstance(target, str) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@never_cache
@login_required
def passkeys_page(request: HttpRequest) -> HttpResponse:
    """Render the user's passkeys, with the forms to add, rename and remove them."""
    context = {"passkeys": services.passkeys_list(user=request.user), "name_max": services.NAME_MAX_LENGTH}
    return render(request, "mfa/passkeys.html", context)


@require_POST
@login_required
def passkey_rename(request: HttpRequest, passkey_id: int) -> HttpResponse:
    """Rename one of the user's own passkeys; another user's is 404."""
    try:
        services.passkey_rename(user=request.user, passkey_id=passkey_id, name=request.POST.get("name"))
    except PasskeyError as exc:
        if exc.code == "passkey_not_found":
            raise Http404("No such passkey.") from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "The passkey has been renamed.")
    return redirect("mfa:passkeys")


@require_POST
@login_required
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    """Remove one of the user's own passkeys and end the user's other logins; another user's is 404."""
    if not session_is_fresh(request):  # removing a factor needs a recent authentication
        return reauthenticate_redirect(request, next_url=reverse("mfa:passkeys"))
    try:
        passkeyfactor.passkey_remove(
            user=request.user, passkey_id=passkey_id, keep_session_key=request.session.session_key
        )
    except PasskeyError as exc:
        raise Http404("No such passkey.") from exc
    messages.success(request, "The passkey has been removed, and every other login of yours ended.")
    return redirect("mfa:passkeys")


def _json_body(request: HttpRequest) -> dict | None:
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bad_body() -> JsonResponse:
    return JsonResponse({"detail": "Send a JSON object.", "code": "invalid"}, status=400)


def _logged_in(
    request: HttpRequest, *, user, proven: Assurance, remember: bool, target: object
) -> JsonResponse:
    """Log ``user`` in with Django's login() (new key, new CSRF token); answer where to go next."""
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    session_assurance_set(request.session, proven)
    session_remember_set(request.session, remember=remember)
    response = JsonResponse({"redirect": _target(request, target, default=settings.LOGIN_REDIRECT_URL)})
    # This browser is now a trusted device of the user (limits.ratelimit).
    device_cookie_set(response, user=user)
    return response


@require_POST
def passkey_login(request: HttpRequest) -> JsonResponse:
    """Log in with a passkey alone (JSON ``{"state", "credential", "next"}``); answer where to go next."""
    body = _json_body(request)
    if body is None:
        return _bad_body()
    try:
        login = services.passkey_authenticate(state=body.get("state"), credential=body.get("credential"))
    except PasskeyError as exc:
        return _refused(exc)
    proven = passkeyfactor.passkey_login_assurance(login)
    return _logged_in(request, user=login.user, proven=proven, remember=False, target=body.get("next"))


@require_POST
def passkey_login_second_step(request: HttpRequest) -> JsonResponse:
    """Complete a login awaiting its second factor with a passkey.

    JSON ``{"mfa_token", "state", "credential", "next"}``; answer where to go next.
    """
    body = _json_body(request)
    if body is None:
        return _bad_body()
    try:
        step = passkeyfactor.passkey_second_step_complete(
            request=request,
            token=body.get("mfa_token"),
            state=body.get("state"),
            credential=body.get("credential"),
        )
    except CodeThrottled as exc:
        return _throttled(exc)
    except PasskeyError as exc:
        return _refused(exc)
    except ValidationError as exc:  # the pending login: bad, expired or used
        return JsonResponse({"detail": exc.message, "code": exc.code}, status=400)
    return _logged_in(
        request, user=step.user, proven=step.assurance, remember=step.remember, target=body.get("next")
    )


@require_POST
@login_required
def passkey_reauthenticate(request: HttpRequest) -> JsonResponse:
    """Prove it is you again with a passkey (JSON ``{"state", "credential", "next"}``); answer where to go.

    The ceremony starts at POST /api/auth/reauthenticate/passkey/options/
    (the user's passkeys only); success upgrades this session in place.
    """
    body = _json_body(request)
    if body is None:
        return _bad_body()
    try:
        login = passkeyfactor.passkey_reauthenticate(
            request=request, user=request.user, state=body.get("state"), credential=body.get("credential")
        )
    except CodeThrottled as exc:
        return _throttled(exc)
    except PasskeyError as exc:
        return _refused(exc)
    session_step_up(request, method=login.method)
    return JsonResponse({"redirect": _target(request, body.get("next"), default=reverse("mfa:mfa"))})
