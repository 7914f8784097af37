"""The mfa app's settings: its system check, and its place in the login's second-step hook."""

from __future__ import annotations

import pytest
from django.utils.module_loading import import_string

from accounts.checks import login_second_step_check
from mfa.checks import pending_check
from mfa.steps import SecondFactorStep


@pytest.mark.parametrize("value", [0, -5, "300", 1.5, True, None])
def test_the_system_check_refuses_a_bad_pending_time(settings, value):
    settings.MFA_PENDING_SECONDS = value
    assert [error.id for error in pending_check()] == ["mfa.E001"]


def test_the_project_names_the_second_factor_as_the_login_second_step(settings):
    assert import_string(settings.ACCOUNTS_LOGIN_SECOND_STEP) is SecondFactorStep
    assert login_second_step_check() == []
    assert pending_check() == []
