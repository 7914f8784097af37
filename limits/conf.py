"""Tunables of the rate limits with their defaults (imported once by LimitsConfig.ready()).

As django-axes' conf.py does, a setting the project does not declare gets its
default on ``settings`` here, so ``settings.NAME`` reads the same everywhere
and ``override_settings`` still works in tests. A deployment sets them through
the environment (authdemo/settings.py, "App tunables").
"""

from __future__ import annotations

from django.conf import settings

# Login rate limits (limits/ratelimit.py, counted in the shared cache):
# failed attempts per username (case-folded, NFKC, stripped) from clients
# without a device cookie, and attempts per client address (IPv6: per /64),
# shared by every login path. LOGIN_RATELIMIT_DEVICE, RATELIMIT_IPV6_PREFIX
# and the DEVICE_COOKIE_* settings have their defaults in limits/ratelimit.py
# and limits/devicecookie.py.
settings.LOGIN_RATELIMIT_USERNAME = getattr(settings, "LOGIN_RATELIMIT_USERNAME", "5/15m")
settings.LOGIN_RATELIMIT_IP = getattr(settings, "LOGIN_RATELIMIT_IP", "30/m")
# Signups per client IP (each costs a password hash and creates an account),
# password-reset requests per client IP, and reset mails per target address
# (counted whether or not an account has it, so limits reveal nothing).
settings.SIGNUP_RATELIMIT_IP = getattr(settings, "SIGNUP_RATELIMIT_IP", "10/h")
settings.PASSWORD_RESET_RATELIMIT_IP = getattr(settings, "PASSWORD_RESET_RATELIMIT_IP", "10/h")
settings.PASSWORD_RESET_RATELIMIT_EMAIL = getattr(settings, "PASSWORD_RESET_RATELIMIT_EMAIL", "3/h")
# Lab actions per client IP: a run revokes and replays this browser's
# credentials and asks the verifier, a replay asks both again.
settings.LAB_RATELIMIT_IP = getattr(settings, "LAB_RATELIMIT_IP", "60/m")
