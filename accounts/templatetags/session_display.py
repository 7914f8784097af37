"""Template filters of the session pages: ``device_summary`` of a user-agent string."""

from __future__ import annotations

from django import template

from accounts.devices import device_summary

register = template.Library()

register.filter("device_summary", device_summary)
