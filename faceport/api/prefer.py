"""RFC 7240 `Prefer` header parsing (only what we honour: `wait`)."""

from __future__ import annotations

import re

# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_SECONDS = re.compile(r"[0-9]{1,9}")
# A header longer than this is no preference anyone means; its parsing stays cheap.
_MAX_HEADER_CHARS = 1024


def preferred_wait(header: str | None, cap_s: int) -> int | None:
    """Seconds the client prefers to wait for the result inline, capped; None if not asked.

    Unknown or malformed preferences are ignored, as RFC 7240 requires; this never raises,
    whatever the header holds.
    """
    if not header or len(header) > _MAX_HEADER_CHARS:
        return None
    for preference in header.split(","):
        token = preference.split(";", 1)[0].strip()
        name, _, value = token.partition("=")
        if name.strip().lower() != "wait":
            continue
        value = value.strip().strip('"')
        if not value:  # a bare `Prefer: wait`: as long as the server allows
            return cap_s
        if _SECONDS.fullmatch(value):
            return min(int(value), cap_s)
    return None
