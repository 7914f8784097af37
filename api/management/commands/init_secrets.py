"""Generate the embedded default's secrets into var/: Django's secret key and the JWT signing key."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rest_framework_simplejwt import settings as jwt_settings

from api import jwk
from authdemo.varfiles import var_file_create


class Command(BaseCommand):
    help = (
        "Create the secrets of the embedded default that are missing: var/secret_key (DJANGO_DEBUG=1 "
        "without DJANGO_SECRET_KEY) and var/jwt/signing_key.pem (without JWT_PRIVATE_KEY(_FILE)). "
        "Never overwrites an existing file; prints what it wrote. jwt_rotate_key replaces the JWT key."
    )
    # It is the step that the secrets checks (api.E001, api.E002) ask for.
    requires_system_checks: list[str] = []

    def handle(self, *args, verbosity: int, **options):
        self.verbosity = verbosity
        if settings.SECRET_KEY_FILE:
            self._create(
                Path(settings.SECRET_KEY_FILE),
                "secret key",
                # 50 URL-safe characters, as Django's get_random_secret_key (OWASP ASVS 5.0 V11.5.1).
                lambda: secrets.token_urlsafe(50).encode(),
            )
        else:
            # With DJANGO_SECRET_KEY, or DJANGO_DEBUG=0 (which requires it), var/ holds none.
            self._say("Secret key: from DJANGO_SECRET_KEY, nothing written.")
        if settings.JWT_KEYS_SOURCE == "var":
            algorithm = jwt_settings.api_settings.ALGORITHM
            if algorithm not in jwk.KEY_TYPES:
                raise CommandError(f"JWT_ALGORITHM must be EdDSA or RS256, not {algorithm!r}.")
            self._create(
                jwk.key_files(Path(settings.JWT_KEYS_DIR)).signing,
                f"JWT signing key ({algorithm})",
                lambda: jwk.private_key_generate(algorithm=algorithm),
            )
        else:
            self._say("JWT signing key: from JWT_PRIVATE_KEY(_FILE), nothing written.")

    def _create(self, path: Path, what: str, factory) -> None:
        if var_file_create(path, factory=factory):
            self.stdout.write(self.style.SUCCESS(f"Wrote a new {what} to {path} (mode 0600)."))
        else:
            self._say(f"Kept the existing {what} in {path}.")

    def _say(self, line: str) -> None:
        """Print what was left as it was (verbosity 0 prints only what was written)."""
        if self.verbosity >= 1:
            self.stdout.write(line)
