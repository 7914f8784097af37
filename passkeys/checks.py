"""System checks of the passkeys' relying party: an RP ID every accepted origin can use."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Info, register

from passkeys import conf


@register()
def webauthn_rp_check(app_configs=None, **kwargs) -> list[Error | Info]:
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
    # A hint for development (make run serves on 127.0.0.1); a deployment names its host in SITE_URL.
    if settings.DEBUG and _is_ip_address(rp_id):
        errors.append(
            Info(
                f"The passkeys' relying party ID {rp_id!r} is an IP address: browsers offer no passkey.",
                hint="Use a host name, e.g. SITE_URL=http://localhost:8000 (and open the site there).",
                id="passkeys.I001",
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


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
