"""Request and response shapes of the passkey endpoints (parsing only; the work is in passkeys.services)."""

from __future__ import annotations

from rest_framework import serializers

from passkeys.models import Passkey
from passkeys.services import NAME_MAX_LENGTH


class PasskeySerializer(serializers.ModelSerializer):
    """A passkey as its owner sees it: never the public key."""

    transports = serializers.SerializerMethodField()

    class Meta:
        model = Passkey
        fields = ("id", "name", "device_type", "transports", "created_at", "last_used_at")
        read_only_fields = fields

    def get_transports(self, obj) -> list[str]:
        return [t for t in obj.transports.split(",") if t]


class CeremonySerializer(serializers.Serializer):
    state = serializers.CharField(help_text="Opaque; send it back with the authenticator's response")
    options = serializers.DictField(help_text="PublicKeyCredentialCreationOptions or RequestOptions (JSON)")


class PasskeyRegisterSerializer(serializers.Serializer):
    state = serializers.CharField(max_length=64)
    credential = serializers.DictField(
        help_text="The PublicKeyCredential of navigator.credentials.create(), as JSON"
    )
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)


class PasskeyLoginSerializer(serializers.Serializer):
    state = serializers.CharField(max_length=64)
    credential = serializers.DictField(
        help_text="The PublicKeyCredential of navigator.credentials.get(), as JSON"
    )


class PasskeyRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)


class PasskeyMfaOptionsSerializer(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=1024, help_text="The mfa_token of the first step's 401")


class PasskeyMfaSerializer(PasskeyLoginSerializer):
    mfa_token = serializers.CharField(max_length=1024, help_text="The mfa_token of the first step's 401")
