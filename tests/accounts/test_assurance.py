"""accounts.assurance: the amr/auth_time rule both strategies share, and its settings' system check."""

from __future__ import annotations

import pytest

from accounts.assurance import (
    Assurance,
    assurance_from_claims,
    assurance_new,
    assurance_stepped_up,
)
from accounts.checks import assurance_check


def test_amr_adds_mfa_only_for_more_than_one_method_and_ignores_unknown_ones():
    assert assurance_new(methods=["pwd"], now=100).amr == ("pwd",)
    assert assurance_new(methods=["pwd", "otp", "pwd"], now=100).amr == ("pwd", "otp", "mfa")
    assert assurance_new(methods=["hwk", "bogus", "mfa"], now=100).amr == ("hwk",)
    with pytest.raises(ValueError):
        assurance_new(methods=["mfa"])


def test_step_up_keeps_the_methods_and_renews_auth_time():
    first = assurance_new(methods=["pwd"], now=100)
    assert assurance_stepped_up(first, method="otp", now=500) == Assurance(
        amr=("pwd", "otp", "mfa"), auth_time=500
    )
    assert assurance_stepped_up(None, method="pwd", now=7) == Assurance(amr=("pwd",), auth_time=7)


def test_freshness_follows_reauth_seconds_and_refuses_the_future(settings):
    settings.REAUTH_SECONDS = 60
    proven = Assurance(amr=("pwd",), auth_time=1000)
    assert proven.is_fresh(now=1060) and not proven.is_fresh(now=1061)
    assert not Assurance(amr=("pwd",), auth_time=2000).is_fresh(now=1000)


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"amr": "pwd", "auth_time": 1},
        {"amr": [], "auth_time": 1},
        {"amr": [1], "auth_time": 1},
        {"amr": ["pwd"], "auth_time": "1"},
        {"amr": ["pwd"], "auth_time": True},
        {"amr": ["pwd"]},
    ],
)
def test_malformed_claims_are_no_assurance(claims):
    assert assurance_from_claims(claims) is None


@pytest.mark.parametrize("value", [0, -5, "300", 1.5, True, None])
def test_the_system_check_refuses_bad_step_up_times(settings, value):
    settings.REAUTH_SECONDS = value
    assert [error.id for error in assurance_check()] == ["accounts.E024"]
    settings.REAUTH_SECONDS = 300
    settings.MFA_PENDING_SECONDS = 120
    assert assurance_check() == []
