"""The playground's routes: `/`, `/playground` and its assets (see `faceport.playground`)."""

from __future__ import annotations

from importlib import resources

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceport.errors import RouteNotFound
from faceport.playground import PREFIX

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


def _asset(name: str) -> Response[str]:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in _TYPES or "/" in name or name.startswith("."):
        raise RouteNotFound()
    file = resources.files("faceport.playground").joinpath("static", name)
    if not file.is_file():
        raise RouteNotFound()
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": _CSP}
    return Response(200, _TYPES[suffix], file.read_text(encoding="utf-8"), headers)


def playground_router() -> APIGatewayRouter:
    """`/`, `/playground` and its assets, for `app.include_router`."""
    router = APIGatewayRouter()

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
