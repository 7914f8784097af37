"""System checks of the passkeys' relying party: an RP ID every accepted origin can use."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import Error, register

from passkeys import conf


@register()
def webauthn_rp_check(app_configs=None, **kwargs) -> list[Error]:
    """Refuse an RP ID that is not the host, or a parent domain, of every origin (WebAuthn Level 3, 5.1.3)."""
    rp_id = conf.rp_id()
    errors = []
    if not rp_id:
        errors.append(
            Error(
                "The passkeys' relying party ID is empty.",
                hint="Set SITE_URL or WEBAUTHN_RP_ID.",
                id="passkeys.E001",
            )
        )
    for origin in conf.origins():
        host = urlsplit(origin).hostname or ""
        if rp_id and host != rp_id and not host.endswith(f".{rp_id}"):
            errors.append(
                Error(
                    f"WEBAUTHN_RP_ID {rp_id!r} is neither the host of {origin!r} nor a parent domain of it.",
                    hint="Browsers refuse every passkey ceremony from that origin.",
                    id="passkeys.E002",
                )
            )
    return errors
