"""Forms of the session side: Django's auth forms, extended through their hooks."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm
from django.core.exceptions import ValidationError

from limits.ratelimit import login_attempt_register, login_success_register

EMAIL_HELP = "The address is attached to your account once you follow the link we send to it."


class SignupForm(UserCreationForm):
    """username, email, password1, password2; the username unique case-insensitively.

    The email is not a field of the new user: the view asks for it through
    accounts.emails, which answers the same whoever holds the address.
    """

    email = forms.EmailField(
        required=True, help_text=EMAIL_HELP, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    field_order = ("username", "email", "password1", "password2")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)


class RateLimitedLoginMixin:
    """The shared login limit (limits.ratelimit) in front of an AuthenticationForm's password check."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.retry_after = 0

    def clean(self):
        # Count the attempt before the password is checked, with the username
        # exactly as sent; past the limit even the right password is refused
        # (OWASP ASVS 5.0 V6.3.1). Unknown user, wrong password and inactive
        # user all get Django's one generic "invalid_login" error.
        username = self.data.get("username")
        throttle = login_attempt_register(self.request, username=username)
        if throttle.limited:
            self.retry_after = throttle.retry_after
            raise ValidationError(throttle.message, code="rate_limited")
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            # Warn before the last attempt, the same for any username.
            if throttle.warning:
                raise ValidationError([exc, ValidationError(throttle.warning, code="attempts_left")]) from exc
            raise
        # Authenticated and allowed in: refund, so the counter holds failures only.
        login_success_register(self.request, username=username)
        return cleaned

    @property
    def rate_limited(self) -> bool:
        return self.has_error(forms.forms.NON_FIELD_ERRORS, code="rate_limited")


class LoginForm(RateLimitedLoginMixin, AuthenticationForm):
    """Django's login form plus "remember me" and the shared login rate limit."""

    remember_me = forms.BooleanField(required=False, label="Remember me for 14 days")

    error_messages = {
        **AuthenticationForm.error_messages,
        # Usernames match case-insensitively here (accounts.models.UserManager).
        "invalid_login": (
            "Please enter a correct username and password. Note that the password is case-sensitive."
        ),
    }


class RateLimitedPasswordChangeForm(PasswordChangeForm):
    """Django's password change form; a wrong current password counts as a failed login of the user.

    So a stolen session cannot guess the current password faster than a
    login could (OWASP ASVS 5.0 V6.3.1): the same per-user counter, locked
    past the same limit.
    """

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request
        self.retry_after = 0

    def clean_old_password(self):
        username = self.user.get_username()
        throttle = login_attempt_register(self.request, username=username)
        if throttle.limited:
            self.retry_after = throttle.retry_after
            raise ValidationError(throttle.message, code="rate_limited")
        old_password = super().clean_old_password()
        login_success_register(self.request, username=username)
        return old_password

    @property
    def rate_limited(self) -> bool:
        return self.has_error("old_password", code="rate_limited")


class ProfileForm(forms.ModelForm):
    """The names, saved at once; a new email, asked for through accounts.emails by the view."""

    email = forms.EmailField(
        required=False, help_text=EMAIL_HELP, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    class Meta:
        model = get_user_model()
        fields = ("first_name", "last_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.email
        # An account's confirmed address can be replaced, not removed.
        self.fields["email"].required = bool(self.instance.email)

    def save(self, commit: bool = True):
        # Only the names: a whole-row save could write back an address
        # confirmed meanwhile (accounts.emails.email_confirm).
        if commit:
            self.instance.save(update_fields=list(self.Meta.fields))
        return self.instance
