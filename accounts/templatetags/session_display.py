"""Template filters of the session pages: ``device_summary`` of a user-agent string, ``amr_display``."""

from __future__ import annotations

from django import template

from accounts.devices import device_summary

register = template.Library()

register.filter("device_summary", device_summary)

AMR_WORDS = {"pwd": "password", "otp": "one-time code", "hwk": "hardware key", "swk": "software key"}


@register.filter
def amr_display(amr) -> str:
    """Return an amr list for people: "password + one-time code (multi-factor)"; "not recorded" if empty."""
    if not amr:
        return "not recorded"
    words = " + ".join(AMR_WORDS.get(method, method) for method in amr if method != "mfa")
    return f"{words} (multi-factor)" if "mfa" in amr else words
