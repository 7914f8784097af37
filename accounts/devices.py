"""Readable device summaries of user-agent strings (ua-parser), for the session lists."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse


@lru_cache(maxsize=512)
def device_summary(user_agent: str) -> str:
    """Return e.g. "Chrome 120 on Mac OS X (Mac)" for a user-agent string; "Unknown device" if unparsable."""
    if not user_agent:
        return "Unknown device"
    result = parse(user_agent[:512])
    parts = []
    if result.user_agent and result.user_agent.family != "Other":
        major = f" {result.user_agent.major}" if result.user_agent.major else ""
        parts.append(f"{result.user_agent.family}{major}")
    if result.os and result.os.family != "Other":
        parts.append(f"on {result.os.family}")
    if result.device and result.device.family not in ("Other", result.os.family if result.os else None):
        parts.append(f"({result.device.family})")
    return " ".join(parts) or "Unknown device"
