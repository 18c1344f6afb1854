"""RFC 7240 `Prefer` header parsing (only what we honour: `wait`)."""

from __future__ import annotations


def preferred_wait(header: str | None, cap_s: int) -> int | None:
    """Seconds the client prefers to wait for the result inline, capped; None if not asked.

    Unknown or malformed preferences are ignored, as RFC 7240 requires.
    """
    if not header:
        return None
    for preference in header.split(","):
        token = preference.split(";", 1)[0].strip()
        name, _, value = token.partition("=")
        if name.strip().lower() != "wait":
            continue
        value = value.strip().strip('"')
        if not value:  # a bare `Prefer: wait`: as long as the server allows
            return cap_s
        if value.isdigit():
            return min(int(value), cap_s)
    return None
