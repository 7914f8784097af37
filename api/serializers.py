"""API request and response shapes; parsing only (the work: api.logins, api.rotation, api.revocation)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers


class CredentialsSerializer(serializers.Serializer):
    # No trimming: the password is checked as sent; the rate limiter
    # normalises the username for its own counter.
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(trim_whitespace=False)


class VerifySerializer(serializers.Serializer):
    token = serializers.CharField(trim_whitespace=False)


class EmptySerializer(serializers.Serializer):
    pass


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="A 6-digit TOTP code or a recovery code")


class MfaLoginSerializer(CodeSerializer):
    mfa_token = serializers.CharField(max_length=1024, trim_whitespace=False)


class MfaRequiredSerializer(serializers.Serializer):
    """A refused login: bad credentials, or the right password of a user with a second factor."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text='"invalid_credentials" or "mfa_required"')
    mfa_token = serializers.CharField(
        required=False, help_text="With mfa_required only: single-use; POST it with a code to the mfa/ path"
    )


class TotpEnrolmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 secret for the authenticator app (shown once)")
    otpauth_uri = serializers.CharField()


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(child=serializers.CharField(), min_length=10, max_length=10)


class ReauthenticateSerializer(serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, required=False, style={"input_type": "password"}
    )
    code = serializers.CharField(max_length=64, required=False)
    state = serializers.CharField(
        max_length=64, required=False, help_text="Of POST /api/auth/reauthenticate/passkey/options/"
    )
    credential = serializers.DictField(
        required=False, help_text="The PublicKeyCredential of navigator.credentials.get(), as JSON"
    )

    def validate(self, attrs):
        proofs = ["password" in attrs, "code" in attrs, "state" in attrs or "credential" in attrs]
        if sum(proofs) != 1:
            raise serializers.ValidationError(
                "Send a password, a code, or a passkey's state and credential.", code="invalid"
            )
        if proofs[2] and not ("state" in attrs and "credential" in attrs):
            raise serializers.ValidationError("A passkey needs both state and credential.", code="invalid")
        return attrs


ME_FIELDS = ("id", "username", "email", "first_name", "last_name")


class MeSerializer(serializers.ModelSerializer):
    auth = serializers.SerializerMethodField(help_text='"session", "jwt-bearer" or "jwt-cookie"')

    class Meta:
        model = get_user_model()
        fields = (*ME_FIELDS, "auth")
        read_only_fields = ("id", "username", "auth")
        extra_kwargs = {"email": {"required": False, "allow_blank": False}}

    def get_auth(self, obj) -> str:
        return self.context.get("auth", "")

    def update(self, instance, validated_data):
        # Only the names: a new email is attached once its owner follows the
        # link (accounts.emails), and a whole-row save could write back an
        # address confirmed meanwhile.
        names = [name for name in validated_data if name != "email"]
        for name in names:
            setattr(instance, name, validated_data[name])
        if names:
            instance.save(update_fields=names)
        return instance


class EmailConfirmationSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text='"email_confirmation_sent"')
    user = MeSerializer(help_text="The user as saved: other fields updated, email unchanged")


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ("id", "username", "email", "first_name", "last_name")


class CookieSessionSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    access_expires = serializers.DateTimeField()
    refresh_expires = serializers.DateTimeField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
