"""The playground: a page to try the API in a browser (`/playground`, linked from `/`),
served by the same resolver as the API, from files in `static/` (no CDN: every asset is
served here). The page calls the API with the key the user types in, kept in the
browser's session storage; it needs no key to load."""

from __future__ import annotations

from importlib import resources

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceport.errors import RouteNotFound

PREFIX = "/playground"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page's own rules: scripts and styles from here only; images may be blob:/data: URLs.
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def is_playground_path(path: str) -> bool:
    """The paths the playground serves (they need no API key)."""
    return path.rstrip("/") in ("", PREFIX) or path.startswith(PREFIX + "/")


def _asset(name: str) -> Response[str]:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in _TYPES or "/" in name or name.startswith("."):
        raise RouteNotFound()
    file = resources.files(__package__).joinpath("static", name)
    if not file.is_file():
        raise RouteNotFound()
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": _CSP}
    return Response(200, _TYPES[suffix], file.read_text(encoding="utf-8"), headers)


def playground_router() -> APIGatewayRouter:
    """`/`, `/playground` and its assets, for `app.include_router`."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]

    @router.get("/", include_in_schema=False)
    def home() -> Response[str]:
        return _asset("home.html")

    @router.get(PREFIX, include_in_schema=False)
    def page() -> Response[str]:
        return _asset("index.html")

    @router.get(PREFIX + "/<name>", include_in_schema=False)
    def asset(name: str) -> Response[str]:
        return _asset(name)

    return router
