"""The playground: a page to try the API in a browser (`/playground`, linked from `/`),
served by the same resolver as the API (`faceport.playground.router`), from files in
`static/` (no CDN: every asset is served here). The page calls the API with the key the
user types in, kept in the browser's session storage; it needs no key to load. This
module holds only its paths, which the route groups ask (and so the authorizer Lambda
imports) without loading Powertools."""

from __future__ import annotations

PREFIX = "/playground"


def is_playground_path(path: str) -> bool:
    """The paths the playground serves (they need no API key)."""
    return path.rstrip("/") in ("", PREFIX) or path.startswith(PREFIX + "/")
