"""The `faceport` command: run the local API, or swap faces in files with no server."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from faceport.errors import FaceportError
from faceport.tasks import OutputFormat

_FORMATS = ("png", "jpg", "webp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceport", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the local API (SQLite, files, workers)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--data-dir", type=Path, help="where tasks and files live (default .data)")

    swap = commands.add_parser("swap", help="swap the face of SOURCE onto a face of TARGET")
    swap.add_argument("source", type=Path, help="image with the face to use")
    swap.add_argument("target", type=Path, help="image with the face to replace")
    swap.add_argument("-o", "--output", type=Path, required=True, help="where to write")
    swap.add_argument("--target-index", type=int, default=0, help="face of TARGET, 0 = largest")
    swap.add_argument("--format", choices=_FORMATS, help="output format (default: from -o)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `faceport` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        return _swap(args)
    except FaceportError as error:
        print(f"faceport: {error.code}: {error.message}", file=sys.stderr)
        return 2


def _swap(args: argparse.Namespace) -> int:
    from faceport.engine import swap_face

    output_format: OutputFormat = args.format or _format_from_suffix(args.output)
    try:
        source = args.source.read_bytes()
        target = args.target.read_bytes()
    except OSError as exc:
        print(f"faceport: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    result = swap_face(source, target, target_index=args.target_index, output_format=output_format)
    args.output.write_bytes(result)
    return 0


def _format_from_suffix(path: Path) -> OutputFormat:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jpg", "jpeg"):
        return "jpg"
    return "webp" if suffix == "webp" else "png"


def _serve(args: argparse.Namespace) -> int:
    from faceport.adapters.local.http_server import make_server
    from faceport.adapters.local.runtime import build_local_runtime
    from faceport.api.app import build_app
    from faceport.settings import Settings

    overrides: dict[str, Any] = {
        name: value
        for name, value in (("host", args.host), ("port", args.port), ("data_dir", args.data_dir))
        if value is not None
    }
    settings = Settings(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runtime = build_local_runtime(settings)
    app = build_app(runtime.services)
    body_cap = settings.max_input_bytes * 3 + 1024 * 1024  # two base64 images and JSON
    server = make_server(settings.host, settings.port, app.resolve, runtime.blobs, body_cap)
    runtime.start()

    def _shutdown(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    print(
        f"faceport listening on {settings.base_url}  (docs: {settings.base_url}/docs)", flush=True
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
