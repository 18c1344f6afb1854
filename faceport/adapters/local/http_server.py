"""The local HTTP server: each request becomes an API Gateway (REST) proxy event, is handed
to the same resolver that runs in Lambda, and the proxy response goes back on the wire.

It also serves `/files/...`, the signed download links of the local blob store (the local
stand-in for S3 presigned URLs).
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import socket
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from faceport.adapters.local.file_blobs import FILES_PREFIX, FileBlobStore
from faceport.api.headers import with_request_id
from faceport.errors import FaceportError, InputTooLarge, LengthRequired

logger = logging.getLogger(__name__)

ProxyHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def to_proxy_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
) -> dict[str, Any]:
    """An API Gateway REST (payload 1.0) proxy event for one HTTP request."""
    url = urlsplit(target)
    path = unquote(url.path) or "/"
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query = parse_qs(url.query, keep_blank_values=True)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    is_text = not body or content_type.startswith(_TEXT_TYPES)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "local",
            "apiId": "local",
            "stage": "local",
            "resourcePath": path,
            "path": path,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip},
        },
        "body": (body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode())
        if body
        else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def _response_parts(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values if (name, str(v)) not in headers]
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return int(response["statusCode"]), headers, body


def make_server(
    host: str,
    port: int,
    handler: ProxyHandler,
    blobs: FileBlobStore,
    max_body_bytes: int,
    route_body_bytes: Mapping[str, int] | None = None,
) -> ThreadingHTTPServer:
    """A threaded HTTP/1.1 server that forwards to `handler`; call `serve_forever()` on it.

    Bodies over `max_body_bytes` are refused unread; `route_body_bytes` gives paths that
    take more (a video upload) their own cap.
    """
    body_caps = dict(route_body_bytes or {})

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "faceport"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; with Nagle on, the second one waits
            # for the client's delayed ACK (40 ms) on every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._handle()

        do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

        def _handle(self) -> None:
            try:
                if self.path.startswith(FILES_PREFIX) and self.command in ("GET", "HEAD"):
                    self._send(*self._file())
                    return
                body = self._read_body()
                event = to_proxy_event(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    self.client_address[0],
                )
                self._send(*_response_parts(handler(event, None)))
            except FaceportError as error:
                self._send_error(error)
            except Exception:
                logger.exception("local server failed on %s %s", self.command, self.path)
                self._send_error(FaceportError())

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                # API Gateway needs a length too; keeps the local shape honest.
                self.close_connection = True
                raise LengthRequired()
            length = int(self.headers.get("Content-Length") or 0)
            cap = body_caps.get(urlsplit(self.path).path, max_body_bytes)
            if length > cap:
                self.close_connection = True  # do not read a body we refuse
                raise InputTooLarge(f"The request body is over {cap} bytes.")
            return self.rfile.read(length) if length else b""

        def _file(self) -> tuple[int, list[tuple[str, str]], bytes]:
            url = urlsplit(self.path)
            key = unquote(url.path[len(FILES_PREFIX) :])
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            data = blobs.open_signed(key, query.get("expires", ""), query.get("sig", ""))
            content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
            return 200, [("Content-Type", content_type), ("Cache-Control", "private")], data

        def _send_error(self, error: FaceportError) -> None:
            payload = {"error": {"code": error.code, "message": error.message}}
            self._send(
                error.status, [("Content-Type", "application/json")], json.dumps(payload).encode()
            )

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            headers = with_request_id(headers, self.headers.get("X-Request-Id"))
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    server = _Server((host, port), RequestHandler)
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is routine, not a server error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
