"""The local HTTP server: each request becomes an API Gateway (REST) proxy event, is handed
to the same resolver that runs in Lambda, and the proxy response goes back on the wire.

It also serves `/files/...`, the signed download links of the local blob store (the local
stand-in for S3 presigned URLs).

HTTP/1.1 is parsed by h11 (strict framing: a malformed or conflicting Content-Length, a
bad request line or header, an oversized header block are refused), connections are
accepted by `socketserver` with a listen backlog sized for bursts, one thread each, up
to `HttpLimits.max_connections`. Every refusal, whichever layer makes it, is answered in
the API's JSON error envelope. Why h11 and not `http.server` or an ASGI server:
docs/ARCHITECTURE.md, "Choices and why".
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from faceport.adapters.local.file_blobs import FILES_PREFIX, FileBlobStore
from faceport.api.groups import ROUTE_GROUPS
from faceport.api.headers import with_request_id
from faceport.errors import (
    BadRequest,
    FaceportError,
    HeadersTooLarge,
    InputTooLarge,
    InvalidJson,
    LengthRequired,
    MethodNotAllowed,
    RequestTimeout,
    ServerBusy,
)

logger = logging.getLogger(__name__)

ProxyHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
Parts = tuple[int, list[tuple[str, str]], bytes]
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_CONTENT_LENGTH_LINE = re.compile(rb"\r?\ncontent-length[ \t]*:([^\r\n]*)", re.IGNORECASE)
_HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class HttpLimits:
    """What one connection may take. The defaults suit a local API that answers in
    milliseconds and holds a request open at most for `Prefer: wait` (60 s)."""

    backlog: int = 1024  # the kernel caps it at net.core.somaxconn
    max_connections: int = 512  # open at once; beyond it, 503 and close
    max_header_bytes: int = 64 * 1024  # request line + headers; beyond it, 431
    idle_timeout_s: float = 15.0  # a kept-alive connection with no new request
    header_timeout_s: float = 10.0  # from the first byte to the end of the headers
    body_timeout_s: float = 30.0  # longest pause while a body arrives
    recv_bytes: int = 256 * 1024


def to_proxy_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
) -> dict[str, Any]:
    """An API Gateway REST (payload 1.0) proxy event for one HTTP request. A text body
    that is not valid UTF-8 is refused (400 `invalid_json`), never silently replaced."""
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
        "body": (_utf8(body) if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson("The request body is not valid UTF-8.") from exc


def _response_parts(response: dict[str, Any]) -> Parts:
    headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values if (name, str(v)) not in headers]
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return int(response["statusCode"]), headers, body


def error_parts(error: FaceportError, target: str = "/") -> Parts:
    """A refusal of the HTTP layer, in the envelope of the route group `target` belongs to
    (the bare "/" when the request line itself could not be read)."""
    answer = ROUTE_GROUPS.render_error(urlsplit(target).path, error)
    headers = list(answer.headers.items())
    if isinstance(error, MethodNotAllowed):
        headers.append(("Allow", ", ".join(METHODS)))
    if isinstance(error, ServerBusy):
        headers.append(("Retry-After", "1"))
    return answer.status, headers, answer.body.encode()


class _Closed(Exception):
    """The client went away, or stayed silent past the idle timeout, between requests."""


@dataclass(frozen=True)
class _Routes:
    handler: ProxyHandler
    blobs: FileBlobStore
    max_body_bytes: int
    body_caps: Mapping[str, int]

    def respond(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, ip: str
    ) -> Parts:
        if target.startswith(FILES_PREFIX) and method in ("GET", "HEAD"):
            return self._file(target)
        return _response_parts(
            self.handler(to_proxy_event(method, target, headers, body, ip), None)
        )

    def body_cap(self, target: str) -> int:
        return self.body_caps.get(urlsplit(target).path, self.max_body_bytes)

    def _file(self, target: str) -> Parts:
        url = urlsplit(target)
        key = unquote(url.path[len(FILES_PREFIX) :])
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        data = self.blobs.open_signed(key, query.get("expires", ""), query.get("sig", ""))
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return 200, [("Content-Type", content_type), ("Cache-Control", "private")], data


class _Connection:
    """One client connection: requests in turn (keep-alive), each answered once."""

    def __init__(self, sock: socket.socket, ip: str, routes: _Routes, limits: HttpLimits) -> None:
        self._sock = sock
        self._ip = ip
        self._routes = routes
        self._limits = limits
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self._method = ""
        self._request_id: str | None = None  # the client's X-Request-Id, for our own answers

    def serve(self) -> None:
        while True:
            try:
                keep_open = self._one_request()
            except _Closed:
                return
            except OSError:
                return  # the client hung up or stopped reading mid-response
            if not keep_open or self._h11.our_state is not h11.DONE:
                return
            if self._h11.their_state is not h11.DONE:
                return  # a body we refused unread: the connection's framing is lost
            self._h11.start_next_cycle()
            self._method = ""
            self._request_id = None

    def _one_request(self) -> bool:
        """Read, answer and log one request; False when the connection must close."""
        started = time.monotonic()
        try:
            request = self._read_head()
        except h11.RemoteProtocolError as exc:
            too_large = exc.error_status_hint == 431
            error = HeadersTooLarge() if too_large else BadRequest(f"Bad request: {exc}.")
            self._send(error_parts(error), close=True)
            return False
        except TimeoutError:
            self._send(error_parts(RequestTimeout()), close=True)
            return False
        method = self._method = request.method.decode("ascii", "replace")
        self._request_id = _header(request, b"x-request-id")
        target = request.target.decode("latin-1")
        parts, close = self._answer(request, method, target)
        self._send(parts, close=close)
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s %s %d %.1f ms", self._ip, method, target[:200], parts[0], elapsed_ms)
        return not close

    def _answer(self, request: h11.Request, method: str, target: str) -> tuple[Parts, bool]:
        """The response, and whether the connection closes after it."""
        headers = [
            (raw.decode("latin-1"), value.decode("latin-1"))
            for raw, value in request.headers.raw_items()
        ]
        try:
            if method not in METHODS:
                raise MethodNotAllowed(f"{method[:20]} is not supported; use {', '.join(METHODS)}.")
            body = self._read_body(request, target)
            return self._routes.respond(method, target, headers, body, self._ip), False
        except _RefusedUnread as refusal:
            return error_parts(refusal.error, target), True
        except FaceportError as error:
            return error_parts(error, target), self._h11.their_state is not h11.DONE
        except TimeoutError:
            return error_parts(RequestTimeout(), target), True
        except h11.RemoteProtocolError as exc:  # a bad body framing, or an early close
            return error_parts(BadRequest(f"Bad request: {exc}."), target), True
        except (ConnectionError, _Closed):
            raise
        except Exception:
            logger.exception("local server failed on %s %s", method, target[:200])
            return error_parts(FaceportError()), True

    def _read_head(self) -> h11.Request:
        """The next request's line and headers; `_Closed` when none comes."""
        head = bytearray(self._h11.trailing_data[0])
        deadline: float | None = time.monotonic() + self._limits.header_timeout_s if head else None
        while True:
            event = self._h11.next_event()
            if isinstance(event, h11.Request):
                _check_head(bytes(head), self._limits.max_header_bytes)
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise _Closed()
            assert event is h11.NEED_DATA, event
            if deadline is None:
                self._sock.settimeout(self._limits.idle_timeout_s)
            else:
                self._sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data = self._sock.recv(self._limits.recv_bytes)
            except TimeoutError:
                if deadline is None:
                    raise _Closed() from None  # idle keep-alive: just close
                raise
            if deadline is None:
                deadline = time.monotonic() + self._limits.header_timeout_s
            if not data and not head:
                raise _Closed()
            head += data
            self._h11.receive_data(data)

    def _read_body(self, request: h11.Request, target: str) -> bytes:
        if _header(request, b"transfer-encoding"):
            # API Gateway needs a length too; keeps the local shape honest.
            raise _RefusedUnread(LengthRequired())
        length = int(_header(request, b"content-length") or 0)
        cap = self._routes.body_cap(target)
        if length > cap:
            raise _RefusedUnread(InputTooLarge(f"The request body is over {cap} bytes."))
        if length and self._h11.they_are_waiting_for_100_continue:
            self._sock.sendall(
                self._h11.send(h11.InformationalResponse(status_code=100, headers=[]))
            )
        chunks: list[bytes] = []
        self._sock.settimeout(self._limits.body_timeout_s)
        while True:
            event = self._h11.next_event()
            if isinstance(event, h11.Data):
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            elif event is h11.NEED_DATA:
                data = self._sock.recv(self._limits.recv_bytes)
                self._h11.receive_data(data)
            else:  # ConnectionClosed mid-body
                raise _Closed()

    def _send(self, parts: Parts, *, close: bool) -> None:
        # Every answer carries a request id, the server's own (downloads, refusals) too.
        parts = (parts[0], with_request_id(parts[1], self._request_id), parts[2])
        if self._h11.our_state is not h11.SEND_RESPONSE:
            # No request was parsed, so h11 will not frame a response; this one is ours.
            self._sock.settimeout(self._limits.body_timeout_s)
            self._sock.sendall(_raw_response(parts))
            return
        status, headers, body = parts
        out = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection")]
        out.append(("Content-Length", str(len(body))))
        if close:
            out.append(("Connection", "close"))
        try:
            wire = self._h11.send(
                h11.Response(status_code=status, headers=out, reason=_reason(status))
            )
            if body and self._method != "HEAD":
                wire += self._h11.send(h11.Data(data=body))
            wire += self._h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError:  # a header value HTTP cannot carry: our bug
            logger.exception("could not frame a %d response", status)
            wire = _raw_response(error_parts(FaceportError()))  # h11 is in ERROR: serve() closes
        self._sock.settimeout(self._limits.body_timeout_s)
        self._sock.sendall(wire)


class _RefusedUnread(Exception):
    """A request refused before its body was read: answered, then the connection closes."""

    def __init__(self, error: FaceportError) -> None:
        super().__init__(error.message)
        self.error = error


def _header(request: h11.Request, name: bytes) -> str | None:
    for key, value in request.headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _check_head(head: bytes, max_bytes: int) -> None:
    """What h11 lets through: a header block that arrived whole in one read over the size
    limit (h11 caps only incomplete ones), and a repeated Content-Length. h11 refuses
    conflicting values but merges equal ones; behind a proxy any repeat is a
    request-smuggling attempt, so it is refused too."""
    end = _HEAD_END.search(head)
    size = end.end() if end else len(head)
    if size > max_bytes:
        raise h11.RemoteProtocolError("header block too large", error_status_hint=431)
    lines = _CONTENT_LENGTH_LINE.findall(head[:size])
    if len(lines) > 1 or any(b"," in value for value in lines):
        raise h11.RemoteProtocolError("repeated Content-Length header", error_status_hint=400)


class LocalHttpServer(socketserver.ThreadingTCPServer):
    """A threaded HTTP/1.1 server that forwards to a proxy handler; `serve_forever()`."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], routes: _Routes, limits: HttpLimits) -> None:
        self.request_queue_size = limits.backlog
        self._routes = routes
        self.limits = limits
        self._open = threading.BoundedSemaphore(limits.max_connections)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._open.acquire(blocking=False):
            _answer_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._open.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._open.release()

    def serve_connection(self, sock: socket.socket, ip: str) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _Connection(sock, ip, self._routes, self.limits).serve()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("connection from %s failed", client_address)


class _Handler(socketserver.BaseRequestHandler):
    server: LocalHttpServer

    def handle(self) -> None:
        self.server.serve_connection(self.request, self.client_address[0])


def _answer_busy(sock: socket.socket) -> None:
    try:
        sock.settimeout(1.0)
        sock.sendall(_raw_response(error_parts(ServerBusy())))
    except OSError:
        pass


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _raw_response(parts: Parts) -> bytes:
    """A whole response that closes the connection, written without h11 (no request
    was parsed for it to answer)."""
    status, headers, body = parts
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def make_server(
    host: str,
    port: int,
    handler: ProxyHandler,
    blobs: FileBlobStore,
    max_body_bytes: int,
    route_body_bytes: Mapping[str, int] | None = None,
    limits: HttpLimits | None = None,
) -> LocalHttpServer:
    """The local server, bound and listening; call `serve_forever()` on it.

    Bodies over `max_body_bytes` are refused unread; `route_body_bytes` gives paths that
    take more (a video upload) their own cap.
    """
    routes = _Routes(handler, blobs, max_body_bytes, dict(route_body_bytes or {}))
    return LocalHttpServer((host, port), routes, limits or HttpLimits())
