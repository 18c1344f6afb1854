"""The engine container's serving contract, as SageMaker expects it on port 8080.

- `GET /ping`: 200 once the engine is loaded (SageMaker's health check).
- `POST /invocations`: an `EngineRequest` as JSON (see `engine_protocol.py`); answers 200
  with the result (image bytes with its media type, or JSON for a detection), or the
  error's HTTP status with `{"error": {"code", "message"}}`. For an async endpoint
  SageMaker stores a 200 body at the output location and any other at the failure location.

`faceport engine-serve` runs this with the in-process engine; engine/Dockerfile makes the
container that runs it on SageMaker.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from faceport.engine_protocol import JSON, EngineRequest, error_document, run_engine
from faceport.errors import FaceportError, InvalidJson, RouteNotFound
from faceport.ports import Engine

logger = logging.getLogger(__name__)


def make_engine_server(host: str, port: int, engine: Engine) -> ThreadingHTTPServer:
    """An HTTP server answering the SageMaker contract with `engine`; `serve_forever()` it."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "faceport-engine"

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._send(200, JSON, b'{"status": "ok"}')
            else:
                self._send_error(RouteNotFound())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/invocations":
                self._send_error(RouteNotFound())
                return
            try:
                request = EngineRequest.model_validate_json(body)
            except ValidationError:
                self._send_error(InvalidJson("The body is not an engine request."))
                return
            try:
                result = run_engine(engine, request)
            except FaceportError as error:
                self._send_error(error)
                return
            except Exception:
                logger.exception("engine failed on a %s request", request.operation)
                self._send_error(FaceportError())
                return
            self._send(200, result.content_type, result.body)

        def _send_error(self, error: FaceportError) -> None:
            self._send(error.status, JSON, error_document(error))

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
