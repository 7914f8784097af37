"""Passkeys on the session side: the security page (list, rename, remove) and the passwordless login.

Registering and listing go through the JSON endpoints of the API, which the
page's script calls with the session (and its CSRF token); the ceremonies are
passkeys.services'. Logging in with a passkey is Django's login(): a new
session key (fixation) and a new CSRF token, as for a password.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import factors
from accounts.devicecookie import device_cookie_set
from accounts.sessions import session_remember_set
from passkeys import services
from passkeys.services import PasskeyError

_STATUS = {"passkey_not_found": 404, "passkey_invalid": 401}


def _refused(exc: PasskeyError) -> JsonResponse:
    return JsonResponse({"detail": exc.message, "code": exc.code}, status=_STATUS.get(exc.code, 400))


@never_cache
@login_required
def passkeys_page(request: HttpRequest) -> HttpResponse:
    """Render the user's passkeys, with the forms to add, rename and remove them."""
    context = {"passkeys": services.passkeys_list(user=request.user), "name_max": services.NAME_MAX_LENGTH}
    return render(request, "accounts/passkeys.html", context)


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
    return redirect("accounts:passkeys")


@require_POST
@login_required
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    """Remove one of the user's own passkeys and end the user's other logins; another user's is 404."""
    try:
        factors.passkey_remove(
            user=request.user, passkey_id=passkey_id, keep_session_key=request.session.session_key
        )
    except PasskeyError as exc:
        raise Http404("No such passkey.") from exc
    messages.success(request, "The passkey has been removed, and every other login of yours ended.")
    return redirect("accounts:passkeys")


@require_POST
def passkey_login(request: HttpRequest) -> JsonResponse:
    """Log in with a passkey (JSON ``{"state", "credential", "next"}``); answer where to go next."""
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JsonResponse({"detail": "Send a JSON object.", "code": "invalid"}, status=400)
    try:
        login = services.passkey_authenticate(state=body.get("state"), credential=body.get("credential"))
    except PasskeyError as exc:
        return _refused(exc)
    auth_login(request, login.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    session_remember_set(request.session, remember=False)
    target = body.get("next")
    if not (
        isinstance(target, str)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = settings.LOGIN_REDIRECT_URL
    response = JsonResponse({"redirect": target})
    # This browser is now a trusted device of the user (accounts.ratelimit).
    device_cookie_set(response, user=login.user)
    return response
