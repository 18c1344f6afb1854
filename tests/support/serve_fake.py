"""`faceport serve` with a fake engine, as its own process: for load and crash tests that
need many tasks to end quickly (`python -m tests.support.serve_fake --port N --data-dir D`).

Everything but the engine is what `faceport serve --dev` runs: settings from FACEPORT_*
variables, the local runtime, the authorizer step, the HTTP server, the dev key file.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from faceport.adapters.local.gateway import local_edge
from faceport.adapters.local.http_server import make_server
from faceport.adapters.local.runtime import build_local_runtime
from faceport.admin import ensure_dev_key
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.settings import Settings
from tests.support.fakes import FakeEngine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(port=args.port, data_dir=args.data_dir)
    engine = FakeEngine(delay_s=float(os.environ.get("FAKE_ENGINE_DELAY_S", "0.002")))
    runtime = build_local_runtime(settings, engine=engine)
    resolve = build_app(runtime.services).resolve
    handler = local_edge(resolve, runtime.accounts, runtime.services.rate_limiter, ROUTE_GROUPS)
    server = make_server(settings.host, settings.port, handler, runtime.blobs, 4 << 20)
    runtime.start()
    ensure_dev_key(runtime.accounts, settings.data_dir, settings.dev_account_credits)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        runtime.stop()


if __name__ == "__main__":
    main()
