"""The CSRF lab: tagged cross-site requests are recorded with what arrived and what the site answered."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from authcache.shared import shared_cache
from tests.api.helpers import COOKIE_LOGIN_URL, LOGOUT_ALL_URL, ME_URL, assert_error
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

RUNS_URL = reverse("lab-csrf-runs")
HOST = {"HTTP_HOST": "127.0.0.1:8000"}


def _start(client) -> dict:
    response = client.post(RUNS_URL, {}, content_type="application/json", **HOST)
    assert response.status_code == 201, response.content
    return response.json()


def _report(client, run_id: str):
    return client.get(reverse("lab-csrf-run", args=[run_id]), **HOST)


def test_run_gives_the_attacker_url_on_the_other_origin(client, user):
    client.force_login(user)
    body = _start(client)
    assert body["attacker_url"] == f"http://localhost:8000{reverse('lab-attacker')}?run={body['run_id']}"
    attacker = client.get(
        body["attacker_url"].removeprefix("http://localhost:8000"), HTTP_HOST="localhost:8000"
    )
    html = attacker.content.decode()
    assert (
        f"http://127.0.0.1:8000{LOGOUT_ALL_URL}?lab_run={body['run_id']}&amp;lab_attack=fetch-logout-all"
        in html
    )
    assert "data-autosubmit" in html and "lab-attacker.js" in html
    # It stands in for another site: its own CSP lets it post, fetch and frame the victim,
    # so what stops the attacks is the victim's defence, not this page's policy.
    policy = attacker["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    for directive in ("form-action", "connect-src", "frame-src"):
        assert "http://127.0.0.1:8000" in directives[directive].split(), policy
    # Widened by that origin only: the rest is the site's policy.
    assert directives["form-action"].split() == ["'self'", "http://127.0.0.1:8000"]
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"


def test_attacker_page_without_a_live_run_attacks_nothing(client):
    response = client.get(reverse("lab-attacker") + "?run=" + "a" * 32, HTTP_HOST="localhost:8000")
    html = response.content.decode()
    assert "data-attack=" not in html and 'data-state="idle"' in html
    assert "127.0.0.1" not in response["Content-Security-Policy"]
    html = client.get(reverse("lab-attacker") + "?run=<script>", HTTP_HOST="localhost:8000").content.decode()
    assert "<script>" not in html.split("</head>")[1].split("lab-attacker.js")[0]


def test_observer_records_a_tagged_request_without_cookies_as_samesite(client, user):
    client.force_login(user)
    run = _start(client)
    attacker = Client()  # the cross-site request: the browser attached no cookie
    response = attacker.post(
        f"{LOGOUT_ALL_URL}?lab_run={run['run_id']}&lab_attack=fetch-logout-all",
        HTTP_ORIGIN="http://localhost:8000",
    )
    assert response.status_code == 401
    report = _report(client, run["run_id"]).json()
    attack = next(a for a in report["attacks"] if a["name"] == "fetch-logout-all")
    assert attack["request"]["cookies"] == [] and attack["request"]["status"] == 401
    assert attack["request"]["code"] == "not_authenticated"
    assert attack["request"]["origin"] == "http://localhost:8000"
    assert attack["stopped_by"] == "samesite" and attack["state"] == "refused"
    assert report["victim"] == {
        "session_before": True,
        "jwt_before": False,
        "session_now": True,
        "jwt_now": False,
        "profile_unchanged": True,
    }
    assert report["complete"] is False


def test_observer_records_cookies_sent_without_token_as_csrf(user):
    victim = Client(enforce_csrf_checks=True)
    victim.force_login(user)
    victim.get(reverse("lab-xss-csrf"), **HOST)
    run = victim.post(
        RUNS_URL,
        {},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=victim.cookies[settings.CSRF_COOKIE_NAME].value,
        **HOST,
    ).json()
    # Same-site subdomain case: the session cookie rides along, no X-CSRFToken.
    response = victim.generic(
        "PATCH",
        f"{ME_URL}?lab_run={run['run_id']}&lab_attack=fetch-patch-me",
        '{"first_name": "pwned"}',
        content_type="application/json",
        **HOST,
    )
    assert response.status_code == 403
    attack = next(
        a for a in _report(victim, run["run_id"]).json()["attacks"] if a["name"] == "fetch-patch-me"
    )
    assert (
        settings.SESSION_COOKIE_NAME in attack["request"]["cookies"]
        and attack["request"]["csrf_header"] is False
    )
    assert attack["request"]["code"] == "csrf_failed"
    assert attack["stopped_by"] == "csrf"
    user.refresh_from_db()
    assert user.first_name == "Alice"


def test_form_post_without_cookies_is_refused_by_both(client, user):
    client.force_login(user)
    run = _start(client)
    response = Client(enforce_csrf_checks=True).post(
        f"{reverse('accounts:logout')}?lab_run={run['run_id']}&lab_attack=form-logout", {"first_name": "x"}
    )
    assert response.status_code == 403
    attack = next(a for a in _report(client, run["run_id"]).json()["attacks"] if a["name"] == "form-logout")
    assert attack["stopped_by"] == "both"


def test_only_preflight_means_cors_stopped_it(client, user):
    client.force_login(user)
    run = _start(client)
    Client().options(f"{ME_URL}?lab_run={run['run_id']}&lab_attack=fetch-patch-me")
    attack = next(
        a for a in _report(client, run["run_id"]).json()["attacks"] if a["name"] == "fetch-patch-me"
    )
    assert attack["request"] is None and attack["preflight"]["method"] == "OPTIONS"
    assert attack["stopped_by"] == "cors"


def test_an_attack_that_got_through_is_reported_as_such(client, user):
    client.force_login(user)
    run = _start(client)
    response = client.post(
        f"{LOGOUT_ALL_URL}?lab_run={run['run_id']}&lab_attack=fetch-logout-all",
        content_type="application/json",
    )
    assert response.status_code == 204
    # The victim is logged out now: the browser's lab cookie still reads the run.
    report = _report(client, run["run_id"]).json()
    attack = next(a for a in report["attacks"] if a["name"] == "fetch-logout-all")
    assert attack["state"] == "succeeded" and attack["stopped_by"] == "none"
    assert report["victim"]["session_now"] is False


def test_untagged_or_mismatched_requests_record_nothing(client, user):
    client.force_login(user)
    run = _start(client)
    Client().post(LOGOUT_ALL_URL)
    Client().post(f"{ME_URL}?lab_run={run['run_id']}&lab_attack=fetch-logout-all")  # wrong path
    Client().post(f"{LOGOUT_ALL_URL}?lab_run={'b' * 32}&lab_attack=fetch-logout-all")  # no such run
    Client().post(f"{LOGOUT_ALL_URL}?lab_run={run['run_id']}&lab_attack=made-up")
    assert shared_cache().get(f"lab:csrf:{'b' * 32}:fetch-logout-all:POST") is None
    report = _report(client, run["run_id"]).json()
    assert all(a["request"] is None and a["preflight"] is None for a in report["attacks"])


def test_run_endpoints_refuse_bad_input(client, user, user_factory):
    assert_error(client.post(RUNS_URL, {}, content_type="application/json", **HOST), 401, "not_authenticated")
    client.force_login(user)
    run = _start(client)
    assert_error(client.get(RUNS_URL, **HOST), 405)
    assert_error(client.post(reverse("lab-csrf-run", args=[run["run_id"]]), **HOST), 405)
    assert_error(_report(client, "c" * 32), 404, "not_found")
    assert_error(_report(client, "nope"), 404, "not_found")
    bob = Client()
    bob.force_login(user_factory(username="bob"))
    assert_error(_report(bob, run["run_id"]), 404, "not_found")
    assert_error(_report(Client(), run["run_id"]), 401, "not_authenticated")


def test_run_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert_error(client.post(RUNS_URL, {}, content_type="application/json", **HOST), 403, "csrf_failed")


def test_run_needs_the_other_name(client, user, settings):
    settings.ALLOWED_HOSTS = ["app.example"]
    client.force_login(user)
    response = client.post(RUNS_URL, {}, content_type="application/json", HTTP_HOST="app.example")
    assert_error(response, 409, "no_other_origin")


def test_jwt_cookie_victim_is_reported(client, user):
    client.post(
        COOKIE_LOGIN_URL, {"username": "alice", "password": PASSWORD}, content_type="application/json"
    )
    run = _start(client)
    report = _report(client, run["run_id"]).json()
    assert report["victim"]["jwt_before"] is True and report["victim"]["jwt_now"] is True
