"""The `faceport` command: run the local API, swap faces in files with no server, or
manage accounts, API keys and credits (`faceport admin`)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from faceport.admin import add_admin_parser, run_admin
from faceport.errors import FaceportError
from faceport.tasks import OutputFormat, TargetSelection

_FORMATS = ("png", "jpg", "webp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceport", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the local API (SQLite, files, workers)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--data-dir", type=Path, help="where tasks and files live (default .data)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="make a funded development account on first run; print its key (also kept "
        "in DATA_DIR/dev-api-key)",
    )

    swap = commands.add_parser("swap", help="swap the face of SOURCE onto a face of TARGET")
    swap.add_argument("source", type=Path, help="image with the face to use")
    swap.add_argument("target", type=Path, help="image with the face to replace")
    swap.add_argument("-o", "--output", type=Path, required=True, help="where to write")
    swap.add_argument(
        "--target-index",
        type=_target_selection,
        default=0,
        help="face(s) of TARGET: N (0 = largest), N,M,... or all",
    )
    swap.add_argument(
        "--face-map",
        type=_face_map,
        help="source->target face pairs, e.g. 0:1,1:0 (overrides --target-index)",
    )
    swap.add_argument("--format", choices=_FORMATS, help="output format (default: from -o)")

    fuse = commands.add_parser("fuse", help="blend the face of DONOR into TEMPLATE")
    fuse.add_argument("donor", type=Path)
    fuse.add_argument("template", type=Path)
    fuse.add_argument("-o", "--output", type=Path, required=True)
    fuse.add_argument("--similarity", type=_similarity, required=True, help="0..1")
    fuse.add_argument("--format", choices=_FORMATS)

    video = commands.add_parser(
        "swap-video", help="swap the face of SOURCE into VIDEO (H.264 MP4 out, audio kept)"
    )
    video.add_argument("source", type=Path, help="image with the face to use")
    video.add_argument("video", type=Path, help="video with the face(s) to replace")
    video.add_argument("-o", "--output", type=Path, required=True, help="MP4 to write")
    video.add_argument(
        "--target-index",
        type=_video_selection,
        help="N: the Nth largest face of the first frame with faces, followed (default 0); or all",
    )
    video.add_argument(
        "--reference-face", type=Path, help="swap only faces of the person in this image"
    )

    detect = commands.add_parser("detect", help="print the faces of IMAGE as JSON")
    detect.add_argument("image", type=Path)

    engine_serve = commands.add_parser(
        "engine-serve", help="serve the engine on SageMaker's contract (/ping, /invocations)"
    )
    engine_serve.add_argument("--host", default="0.0.0.0", help="default 0.0.0.0")
    engine_serve.add_argument("--port", type=int, default=8080, help="default 8080")
    # SageMaker starts a container as `<image> serve`; the word is accepted and ignored.
    engine_serve.add_argument("mode", nargs="?", choices=["serve"], help=argparse.SUPPRESS)
    add_admin_parser(commands)
    return parser


def _target_selection(text: str) -> TargetSelection:
    if text == "all":
        return "all"
    try:
        indexes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("use N, N,M,... or all") from None
    if any(i < 0 for i in indexes):
        raise argparse.ArgumentTypeError("face indexes start at 0")
    return indexes[0] if len(indexes) == 1 else indexes


def _video_selection(text: str) -> int | str:
    if text == "all":
        return "all"
    if not text.isdigit():
        raise argparse.ArgumentTypeError("use N (0 = largest face) or all")
    return int(text)


def _face_map(text: str) -> list[tuple[int, int]]:
    try:
        pairs = [tuple(int(i) for i in pair.split(":")) for pair in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("use SOURCE:TARGET pairs, e.g. 0:1,1:0") from None
    if any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise argparse.ArgumentTypeError("use SOURCE:TARGET pairs, e.g. 0:1,1:0")
    return [(p[0], p[1]) for p in pairs]


def _similarity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a number from 0 to 1")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `faceport` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "engine-serve":
            return _engine_serve(args)
        if args.command == "admin":
            return run_admin(args)
        if args.command == "swap-video":
            return _swap_video(args)
        return _engine_command(args)
    except FaceportError as error:
        print(f"faceport: {error.code}: {error.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"faceport: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2


def _engine_command(args: argparse.Namespace) -> int:
    """swap, fuse and detect: the engine on files, with no server."""
    from faceport import engine

    if args.command == "detect":
        faces = [face.to_dict() for face in engine.detect_faces_in_image(args.image.read_bytes())]
        print(json.dumps({"faces": faces}, indent=2))
        return 0
    output_format: OutputFormat = args.format or _format_from_suffix(args.output)
    if args.command == "fuse":
        result = engine.fuse_faces(
            args.donor.read_bytes(),
            args.template.read_bytes(),
            similarity=args.similarity,
            output_format=output_format,
        )
    else:
        result = engine.swap_face(
            args.source.read_bytes(),
            args.target.read_bytes(),
            target_index=args.target_index,
            face_map=args.face_map,
            output_format=output_format,
        )
    args.output.write_bytes(result)
    return 0


def _swap_video(args: argparse.Namespace) -> int:
    """The video swap on files: limits are the server's settings, progress on stderr."""
    from faceport import engine
    from faceport.errors import InputTooLarge
    from faceport.settings import Settings
    from faceport.video_probe import check_video_limits, probe_video

    if args.target_index is not None and args.reference_face is not None:
        print("faceport: give --target-index or --reference-face, not both", file=sys.stderr)
        return 2
    settings = Settings()
    size = args.video.stat().st_size
    if size > settings.max_video_bytes:
        raise InputTooLarge(
            f"The video is larger than {settings.max_video_bytes} bytes.",
            limit=settings.max_video_bytes,
        )
    check_video_limits(probe_video(args.video), settings)
    reference = args.reference_face.read_bytes() if args.reference_face else None

    def progress(fraction: float) -> None:
        print(f"\r{fraction:4.0%}", end="", file=sys.stderr, flush=True)

    report = engine.swap_face_video(
        args.source.read_bytes(),
        args.video,
        args.output,
        target_index=0 if args.target_index is None else args.target_index,
        reference_face=reference,
        progress=progress,
    )
    print(file=sys.stderr)
    print(json.dumps(report.to_dict()))
    return 0


def _format_from_suffix(path: Path) -> OutputFormat:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jpg", "jpeg"):
        return "jpg"
    return "webp" if suffix == "webp" else "png"


def _serve(args: argparse.Namespace) -> int:
    from faceport.adapters.local.gateway import with_authorizer
    from faceport.adapters.local.http_server import make_server
    from faceport.adapters.local.runtime import build_local_runtime
    from faceport.admin import DEV_KEY_FILE, ensure_dev_key
    from faceport.api.app import build_app
    from faceport.api.groups import ROUTE_GROUPS
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
    handler = with_authorizer(app.resolve, runtime.accounts, ROUTE_GROUPS)
    # base64 costs 4 bytes per 3: two images; or a video with its source and reference
    body_cap = settings.max_input_bytes * 3 + 1024 * 1024
    video_cap = (settings.max_video_bytes + 2 * settings.max_input_bytes) * 4 // 3 + 1024 * 1024
    server = make_server(
        settings.host,
        settings.port,
        handler,
        runtime.blobs,
        body_cap,
        {"/v1/video-face-swap": video_cap},
    )
    runtime.start()
    if args.dev:
        key = ensure_dev_key(runtime.accounts, settings.data_dir, settings.dev_account_credits)
        key_file = settings.data_dir / DEV_KEY_FILE
        print(f"development API key (also in {key_file}): {key}", flush=True)

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


def _engine_serve(args: argparse.Namespace) -> int:
    from faceport import engine
    from faceport.adapters.local.engine import InProcessEngine
    from faceport.engine_serving import make_engine_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine.detect_faces_in_image(_warm_up_image())  # load the models before /ping says ok
    from faceport.adapters.aws.engine_container import video_runner
    from faceport.settings import Settings

    engine_ = InProcessEngine()
    server = make_engine_server(args.host, args.port, engine_, video_runner(Settings(), engine_))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"faceport engine listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


def _warm_up_image() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, "PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
