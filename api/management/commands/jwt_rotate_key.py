"""Rotate the JWT signing key without logging anybody out (docs/jwt-keys.md)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rest_framework_simplejwt.settings import api_settings

from api import jwk, keyring


class Command(BaseCommand):
    help = (
        "Rotate the JWT signing key. Embedded default (keys in var/jwt/): the staged or a new key "
        "signs, the old one keeps verifying until the refresh lifetime has passed. Keys from the "
        "environment: print a new key and the procedure; the environment is never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stage",
            action="store_true",
            help="Embedded default: create the next key and publish it in the JWKS without signing with it.",
        )
        parser.add_argument(
            "--private-key-out",
            type=Path,
            help="Keys from the environment: write the new private key to this new file (mode 0600) "
            "instead of printing it.",
        )

    def handle(self, *args, stage: bool, private_key_out: Path | None, **options):
        algorithm = api_settings.ALGORITHM
        if settings.JWT_KEYS_SOURCE != "var":
            self._environment_procedure(algorithm=algorithm, private_key_out=private_key_out)
            return
        keys_dir = Path(settings.JWT_KEYS_DIR)
        if stage:
            kid, created = jwk.signing_key_stage(keys_dir=keys_dir, algorithm=algorithm)
            verb = "Created" if created else "Already staged:"
            self.stdout.write(f"{verb} next signing key {kid} in {jwk.key_files(keys_dir).next}.")
            self.stdout.write(
                "Restart the server: /.well-known/jwks.json then publishes it while the current key "
                f"still signs. After at least {jwk.JWKS_MAX_AGE} s (verifiers' JWKS cache), run "
                "jwt_rotate_key again to sign with it."
            )
            return
        retire_after = api_settings.REFRESH_TOKEN_LIFETIME + keyring.token_backend().get_leeway()
        self.stdout.write(f"Rotating the JWT signing key in {keys_dir} ({algorithm}) ...")
        result = jwk.signing_key_rotate(keys_dir=keys_dir, algorithm=algorithm, retire_after=retire_after)
        if result.old_kid:
            self.stdout.write(f"Kept the old key {result.old_kid} as a verifying key in previous/.")
        source = "the staged next key" if result.from_staged else "a new key"
        self.stdout.write(f"Now signing with {source} {result.new_kid}.")
        for kid in result.retired_kids:
            self.stdout.write(f"Retired previous key {kid} (older than the refresh lifetime).")
        self.stdout.write(
            self.style.SUCCESS(
                "Done. Restart the server to sign with the new key; tokens signed with the old one "
                f"keep verifying for {int(retire_after.total_seconds())} s, so nobody is logged out."
            )
        )

    def _environment_procedure(self, *, algorithm: str, private_key_out: Path | None) -> None:
        pem = jwk.private_key_generate(algorithm=algorithm)
        public = jwk.private_key_load(pem).public_key()
        new_kid = jwk.public_key_kid(public)
        current_kid = keyring.key_ring().signing_kid
        self.stdout.write(
            "The signing key comes from the environment (JWT_PRIVATE_KEY / JWT_PRIVATE_KEY_FILE); "
            "this command never changes it. A new key was generated:"
        )
        if private_key_out:
            try:
                fd = os.open(private_key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise CommandError(f"Cannot create {private_key_out}: {exc}") from exc
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            self.stdout.write(f"Private key {new_kid} written to {private_key_out} (mode 0600).")
        else:
            self.stdout.write(f"Private key {new_kid} (put it in your secret store, not in a log):")
            self.stdout.write(pem.decode("ascii"))
        self.stdout.write(f"Public key {new_kid}:")
        self.stdout.write(jwk.public_key_pem(public))
        self.stdout.write(f"Current public key {current_kid} (it goes to JWT_EXTRA_PUBLIC_KEYS in step 3):")
        self.stdout.write(jwk.public_key_pem(keyring.key_ring().signing_key.public_key()))
        refresh = int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds())
        self.stdout.write(
            "Procedure:\n"
            f"  1. Append the public key {new_kid} to JWT_EXTRA_PUBLIC_KEYS(_FILE) on every instance "
            "and deploy: /.well-known/jwks.json publishes it, the current key still signs.\n"
            f"  2. Wait at least {jwk.JWKS_MAX_AGE} s (plus any verifier's own JWKS cache).\n"
            f"  3. Set JWT_PRIVATE_KEY(_FILE) to the new private key; replace the public key {new_kid} in "
            f"JWT_EXTRA_PUBLIC_KEYS by the old public key {current_kid}; deploy.\n"
            f"  4. After {refresh} s (the refresh lifetime), remove {current_kid} from "
            "JWT_EXTRA_PUBLIC_KEYS and deploy. Nobody is logged out at any step."
        )
