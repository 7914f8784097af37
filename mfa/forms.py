"""Forms of second factors on the session side: parsing only (the checks are mfa.services')."""

from __future__ import annotations

from django import forms

CODE_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True, "spellcheck": "false"}
)


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=64,
        label="Code",
        help_text="The 6-digit code of your authenticator app, or one of your recovery codes.",
        widget=CODE_WIDGET,
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(max_length=64, label="Code from the app", widget=CODE_WIDGET)


class MfaLoginForm(CodeForm):
    mfa_token = forms.CharField(max_length=1024, widget=forms.HiddenInput)


class ReauthenticateForm(forms.Form):
    password = forms.CharField(
        required=False,
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        required=False,
        max_length=64,
        label="Or a code",
        help_text="If you set up an authenticator app: its 6-digit code, or a recovery code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, with_code: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_code:  # no authenticator app and no recovery codes: only the password
            del self.fields["code"]

    def clean(self):
        cleaned = super().clean()
        if "code" not in self.fields:
            if not cleaned.get("password"):
                raise forms.ValidationError("Enter your password.", code="required")
            cleaned["code"] = ""
        elif bool(cleaned.get("password")) == bool(cleaned.get("code")):
            raise forms.ValidationError("Enter your password or a code.", code="one_of")
        return cleaned
