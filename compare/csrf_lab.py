"""The CSRF lab: a page of another origin attacks this site; what arrived and what answered is observed here.

The attacker page (served by this instance under its other name,
``localhost`` vs ``127.0.0.1``) sends real state-changing requests to the
real endpoints, tagged ``?lab_run=<id>&lab_attack=<name>``. Only those
endpoints are served ``observed`` (compare.hooks), and Django's CSRF failure
page through ``csrf_failure``: for tagged requests of a live run only, they
record the names of the cookies that arrived (never their values), whether a
CSRF header came, and the status and error code the site answered. The lab page reads that back
and says which defence stopped each attack.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from django.views.csrf import csrf_failure as django_csrf_failure

from authcache.shared import shared_cache
from compare.labstore import LabStore

RUN_TTL = 600
store = LabStore(kind="csrf", cookie_name="lab_csrf", cookie_path="/lab/xss-csrf/")
# The other name of a development instance: a different site for the browser.
_OTHER_HOST = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    url_name: str
    how: str
    credential: str

    @property
    def path(self) -> str:
        return reverse(self.url_name)


ATTACKS = (
    Attack(
        "fetch-logout-all",
        "POST",
        "api:logout-all",
        'fetch() POST, credentials: "include", mode: "no-cors"',
        "session and JWT cookies",
    ),
    Attack(
        "fetch-patch-me",
        "PATCH",
        "api:me",
        'fetch() PATCH with a JSON body, credentials: "include"',
        "session and JWT cookies",
    ),
    Attack("form-logout", "POST", "accounts:logout", "auto-submitted HTML form POST", "session cookie"),
    Attack("form-cookie-logout", "POST", "api:cookie-logout", "auto-submitted HTML form POST", "JWT cookies"),
)
_BY_NAME = {attack.name: attack for attack in ATTACKS}


def _obs_key(run_id: str, attack: str, method: str) -> str:
    return f"lab:csrf:{run_id}:{attack}:{method}"


def other_origin(request: HttpRequest) -> str | None:
    """Return this instance's origin under its other development name, when that name is allowed."""
    domain, port = split_domain_port(request.get_host())
    other = _OTHER_HOST.get(domain)
    if other is None or not validate_host(other, settings.ALLOWED_HOSTS):
        return None
    return f"{request.scheme}://{other}" + (f":{port}" if port else "")


def attack_urls(*, target: str, run_id: str) -> list[dict]:
    """Return each attack with its full URL at ``target``, tagged for ``run_id``."""
    return [
        {
            "name": a.name,
            "method": a.method,
            "how": a.how,
            "credential": a.credential,
            "form": a.name.startswith("form-"),
            "url": f"{target}{a.path}?lab_run={run_id}&lab_attack={a.name}",
        }
        for a in ATTACKS
    ]


def _observe(request: HttpRequest, response: HttpResponse) -> dict:
    watched = {
        settings.SESSION_COOKIE_NAME,
        settings.JWT_ACCESS_COOKIE,
        settings.JWT_REFRESH_COOKIE,
        settings.CSRF_COOKIE_NAME,
    }
    code = ""
    if response.get("Content-Type", "").startswith("application/json") and not response.streaming:
        try:
            body = json.loads(response.content[:4096])
            code = str(body.get("code", "")) if isinstance(body, dict) else ""
        except ValueError:
            code = ""
    return {
        "method": request.method,
        "cookies": sorted(watched & set(request.COOKIES)),
        "csrf_header": settings.CSRF_HEADER_NAME in request.META,
        "origin": request.META.get("HTTP_ORIGIN", "")[:100],
        "sec_fetch_site": request.META.get("HTTP_SEC_FETCH_SITE", "")[:20],
        "status": response.status_code,
        "code": code[:50],
    }


def _record(request: HttpRequest, response: HttpResponse) -> None:
    """Record ``request`` and its answer when it is an attack of a live run, sent where that attack goes."""
    attack = _BY_NAME.get(request.GET.get("lab_attack", ""))
    run_id = request.GET.get("lab_run", "")
    if (
        attack is not None
        and request.method in (attack.method, "OPTIONS")
        and request.path == attack.path
        and store.read(run_id) is not None
    ):
        shared_cache().set(
            _obs_key(run_id, attack.name, request.method), _observe(request, response), RUN_TTL
        )


def _tagged(request: HttpRequest) -> bool:
    return "lab_run=" in request.META.get("QUERY_STRING", "")


def observed(view: Callable) -> Callable:
    """Return ``view`` (an endpoint the lab attacks) recording what a tagged request carried and got."""

    @functools.wraps(view)
    def observing(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if _tagged(request):
            if getattr(response, "is_rendered", True):
                _record(request, response)
            else:  # a DRF or template response: its body (the error code) once rendered
                response.add_post_render_callback(lambda rendered: _record(request, rendered))
        return response

    return observing


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF failure page (settings.CSRF_FAILURE_VIEW), recorded when a lab attack caused it.

    The form attacks on session views are refused by Django's CSRF middleware,
    before any view runs: this is where their answer is made.
    """
    response = django_csrf_failure(request, reason=reason)
    if _tagged(request):
        _record(request, response)
    return response


def csrf_run_create(*, user, session: bool, jwt: bool) -> str:
    """Start a run for ``user``, noting which mechanisms were logged in; return its id."""
    return store.create(
        user=user,
        data={"session": session, "jwt": jwt, "first_name": user.first_name, "email": user.email},
        ttl=RUN_TTL,
    )


def _verdict(attack: Attack, main: dict | None, preflight: dict | None) -> dict:
    if main is None and preflight is None:
        return {"state": "pending", "stopped_by": "", "explanation": "Nothing arrived yet."}
    if main is None:
        return {
            "state": "refused",
            "stopped_by": "cors",
            "explanation": (
                f"Only the CORS preflight (OPTIONS) arrived, answered {preflight['status']} without "
                f"Access-Control-Allow-Origin: the browser never sent the {attack.method} itself."
            ),
        }
    sent = {settings.SESSION_COOKIE_NAME, settings.JWT_ACCESS_COOKIE} & set(main["cookies"])
    status = main["status"]
    answer = f"{status} {main['code']}".strip()
    if status < 400:
        return {
            "state": "succeeded",
            "stopped_by": "none",
            "explanation": f"NOT stopped: the site answered {answer}.",
        }
    if not sent and status == 403:
        return {
            "state": "refused",
            "stopped_by": "both",
            "explanation": (
                "SameSite=Lax: the browser sent no session or JWT cookie on this cross-site request; "
                f"the CSRF check refused it as well ({answer})."
            ),
        }
    if not sent:
        return {
            "state": "refused",
            "stopped_by": "samesite",
            "explanation": (
                "SameSite=Lax: the browser sent no session or JWT cookie on this cross-site request, "
                f"so the site saw an anonymous request ({answer})."
            ),
        }
    if status == 403:
        return {
            "state": "refused",
            "stopped_by": "csrf",
            "explanation": (
                f"The cookies arrived ({', '.join(sorted(sent))}), but the CSRF check refused the request "
                f"({answer}): no X-CSRFToken header and a foreign Origin."
            ),
        }
    return {"state": "refused", "stopped_by": "other", "explanation": f"Refused: {answer}."}


def csrf_run_report(*, run_id: str, record: dict, user, session_now: bool, jwt_now: bool) -> dict:
    """Return each attack's observations and verdict, and whether the victim is still logged in, unchanged."""
    keys = [_obs_key(run_id, a.name, m) for a in ATTACKS for m in (a.method, "OPTIONS")]
    seen = shared_cache().get_many(keys)
    attacks = []
    for a in ATTACKS:
        main = seen.get(_obs_key(run_id, a.name, a.method))
        preflight = seen.get(_obs_key(run_id, a.name, "OPTIONS"))
        attacks.append(
            {
                "name": a.name,
                "method": a.method,
                "path": a.path,
                "how": a.how,
                "credential": a.credential,
                "request": main,
                "preflight": preflight,
                **_verdict(a, main, preflight),
            }
        )
    unchanged = user is not None and (user.first_name, user.email) == (record["first_name"], record["email"])
    return {
        "run_id": run_id,
        "complete": all(a["state"] != "pending" for a in attacks),
        "attacks": attacks,
        "victim": {
            "session_before": record["session"],
            "jwt_before": record["jwt"],
            "session_now": session_now,
            "jwt_now": jwt_now,
            "profile_unchanged": unchanged,
        },
    }
