"""The passkeys' tunables: each read from settings when set there, else derived from SITE_URL here."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

DEFAULTS: dict[str, object] = {
    # Shown by the authenticator beside the account name.
    "WEBAUTHN_RP_NAME": "authdemo",
    # How long a ceremony's challenge is accepted (the browser's timeout is the same).
    "WEBAUTHN_CHALLENGE_SECONDS": 300,
    # Passwordless ceremonies each client address may start (each stores a challenge).
    "WEBAUTHN_RATELIMIT_IP": "30/m",
}


def setting(name: str):
    """Return the tunable ``name``: the project's setting when it defines one, else the default."""
    return getattr(settings, name, DEFAULTS[name])


def rp_id() -> str:
    """Return the relying party ID: ``WEBAUTHN_RP_ID`` or SITE_URL's host (WebAuthn Level 3, 5.1.3)."""
    return getattr(settings, "WEBAUTHN_RP_ID", None) or (urlsplit(settings.SITE_URL).hostname or "")


def origins() -> list[str]:
    """Return the origins a ceremony may come from: ``WEBAUTHN_ORIGINS`` or SITE_URL alone."""
    return list(getattr(settings, "WEBAUTHN_ORIGINS", None) or [settings.SITE_URL])
