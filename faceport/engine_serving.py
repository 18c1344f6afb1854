"""The engine container's serving contract, as SageMaker expects it on port 8080.

- `GET /ping`: 200 once the engine is loaded (SageMaker's health check).
- `POST /invocations`: an `EngineRequest` as JSON (see `engine_protocol.py`); answers 200
  with the result (image bytes with its media type, or JSON for a detection), or the
  error's HTTP status with `{"error": {"code", "message"}}`. For an async endpoint
  SageMaker stores a 200 body at the output location and any other at the failure location.

A request with a `task_id` (a video) is run by `run_task` against the task's storage and
answered with the task's `Output` as JSON (`adapters/aws/engine_container.py`).

`faceport engine-serve` runs this with the in-process engine; engine/Dockerfile makes the
container that runs it on SageMaker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from faceport.backends import Output, output_body
from faceport.engine_protocol import (
    JSON,
    EngineRequest,
    EngineResult,
    error_document,
    run_engine,
)
from faceport.errors import FaceportError, InvalidJson, OperationNotAvailable, RouteNotFound
from faceport.ports import Engine

logger = logging.getLogger(__name__)


TaskRunner = Callable[[str], Output | None]


def make_engine_server(
    host: str, port: int, engine: Engine, run_task: TaskRunner | None = None
) -> ThreadingHTTPServer:
    """An HTTP server answering the SageMaker contract with `engine` (and `run_task` for
    requests that name a task); `serve_forever()` it."""

    def answer(request: EngineRequest) -> EngineResult:
        if request.task_id is None:
            return run_engine(engine, request)
        if run_task is None:
            raise OperationNotAvailable("This engine runs no task of its own (no storage).")
        return EngineResult(JSON, output_body(run_task(request.task_id)))

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
                result = answer(request)
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
